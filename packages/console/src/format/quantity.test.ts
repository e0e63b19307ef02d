import { describe, expect, it } from "vitest";
import { formatByteQuantity } from "./quantity.js";

describe("formatByteQuantity", () => {
  it("shows plain byte counts in binary units", () => {
    expect(formatByteQuantity("120070688")).toBe("114.5 MiB");
    expect(formatByteQuantity("0")).toBe("0 B");
  });

  it("keeps quantities that carry a suffix", () => {
    expect(formatByteQuantity("256Mi")).toBe("256Mi");
  });

  it("shows a dash for no value", () => {
    expect(formatByteQuantity("")).toBe("—");
  });
});
