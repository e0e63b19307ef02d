import { describe, expect, it } from "vitest";
import { formatAge, formatBytes, toDate } from "./time.js";

describe("formatAge", () => {
  const start = new Date(1_000_000);
  it.each([
    [0, "0s"],
    [59_000, "59s"],
    [60_000, "1m"],
    [3_600_000, "1h"],
    [47 * 3_600_000, "47h"],
    [48 * 3_600_000, "2d"],
  ])("after %i ms shows %s", (elapsed, shown) => {
    expect(formatAge(start, start.getTime() + elapsed)).toBe(shown);
  });

  it("shows a dash without a time", () => {
    expect(formatAge(undefined, 0)).toBe("—");
  });
});

describe("toDate", () => {
  it("joins seconds and nanos", () => {
    expect(toDate({ seconds: 2n, nanos: 5_000_000 })?.getTime()).toBe(2005);
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536n)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
  });
});
