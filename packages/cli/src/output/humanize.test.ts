import { describe, expect, it } from "vitest";
import { humanBytes, humanDuration, labelsText, titleCase } from "./humanize.js";

describe("humanize", () => {
  it.each([
    [5_000, "5s"],
    [119_000, "119s"],
    [330_000, "5m30s"],
    [45 * 60_000, "45m"],
    [(3 * 60 + 20) * 60_000, "3h20m"],
    [26 * 3_600_000, "26h"],
    [(3 * 24 + 4) * 3_600_000, "3d4h"],
    [45 * 86_400_000, "45d"],
  ])("ages %d ms as %s, as kubectl does", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it("formats enum names, sizes and labels for tables", () => {
    expect(titleCase("RUNNING")).toBe("Running");
    expect(titleCase(undefined)).toBe("Unknown");
    expect(humanBytes(617n)).toBe("617");
    expect(humanBytes(1536)).toBe("1.5Ki");
    expect(humanBytes(5 * 1024 ** 3)).toBe("5Gi");
    expect(labelsText({ b: "2", a: "1" })).toBe("a=1,b=2");
    expect(labelsText({})).toBe("<none>");
  });
});
