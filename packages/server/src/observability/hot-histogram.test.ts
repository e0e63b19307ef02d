import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotHistogram } from "./hot-histogram.js";

const options = {
  name: "calls_seconds",
  help: "How long calls took.",
  labelNames: ["method", "code"],
  buckets: [0.001, 0.01, 0.1, 1],
};

// Values on bounds, between them, below the first and above the last.
const OBSERVED: [string, string, number][] = [
  ["Get", "OK", 0.0005],
  ["Get", "OK", 0.001],
  ["Get", "OK", 0.05],
  ["Get", "NOT_FOUND", 2],
  ["List", "OK", 0.1],
  ["Get", "OK", 0.999],
  ["List", "OK", 1],
  ["List", "OK", 0],
];

describe("HotHistogram", () => {
  it("prints what prom-client's Histogram prints for the same observations", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ ...options, registers: [theirs] });
    const hot = new HotHistogram({ ...options, registers: [ours] });
    for (const [method, code, value] of OBSERVED) {
      reference.labels(method, code).observe(value);
      hot.series(method, code)(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(hot.counts()).toEqual([
      { labels: { method: "Get", code: "OK" }, count: 4 },
      { labels: { method: "Get", code: "NOT_FOUND" }, count: 1 },
      { labels: { method: "List", code: "OK" }, count: 3 },
    ]);
  });

  it("hands out one observer per series, and resets to zero", async () => {
    const registry = new Registry();
    const hot = new HotHistogram({ ...options, registers: [registry] });
    expect(hot.series("Get", "OK")).toBe(hot.series("Get", "OK"));
    hot.series("Get", "OK")(0.5);
    hot.reset();
    expect(await registry.metrics()).toContain('calls_seconds_count{method="Get",code="OK"} 0');
  });
});
