import { describe, expect, it } from "vitest";
import { graceCountdown } from "./countdown.js";

describe("graceCountdown", () => {
  it("counts the seconds left from the deletion request, then says the grace period is over", () => {
    const start = new Date("2026-01-01T00:00:00Z");
    const text = graceCountdown(start, 30);
    expect(text(start)).toBe("grace period: 30s left");
    expect(text(new Date(start.getTime() + 29_200))).toBe("grace period: 1s left");
    expect(text(new Date(start.getTime() + 30_000))).toBe("grace period over, removing the control plane");
  });
});
