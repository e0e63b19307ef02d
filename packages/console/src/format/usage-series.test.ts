import { describe, expect, it } from "vitest";
import { stepChart } from "./usage-series.js";

const box = { width: 100, height: 50 };

describe("stepChart", () => {
  it("holds each value until the next sample and runs the last one up to now", () => {
    const chart = stepChart(
      [
        { timeMs: 0, value: 1 },
        { timeMs: 50, value: 2 },
        { timeMs: 75, value: 2 },
      ],
      100,
      box,
    );
    // max = 2 × 1.15 = 2.3: 1 sits at 50 − 50/2.3 ≈ 28.3, 2 at 50 − 100/2.3 ≈ 6.5.
    expect(chart?.line).toBe("M0,28.3 H50 V6.5 H75 H100");
    expect(chart?.area).toBe("M0,28.3 H50 V6.5 H75 H100 V50 H0 Z");
    expect(chart?.max).toBeCloseTo(2.3);
    expect(chart?.end).toEqual({ x: 100, y: 6.5 });
    expect([chart?.startMs, chart?.endMs]).toEqual([0, 100]);
  });

  it("draws zero on the baseline and has nothing to draw without samples", () => {
    expect(stepChart([{ timeMs: 10, value: 0 }], 10, box)?.line).toBe("M0,50 H100");
    expect(stepChart([], 10, box)).toBeUndefined();
  });
});
