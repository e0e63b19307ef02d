import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.js";
import { UsageError } from "./errors.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["45", 45_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text, "--timeout")).toBe(ms);
  });

  it.each(["", "5x", "m5", "1h 30m", "-3s"])("rejects %j naming the flag", (text) => {
    expect(() => parseDuration(text, "--timeout")).toThrow(UsageError);
    expect(() => parseDuration(text, "--timeout")).toThrow(/--timeout/);
  });
});
