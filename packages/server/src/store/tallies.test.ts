import { describe, expect, it } from "vitest";
import { Tallies } from "./tallies.js";

describe("Tallies", () => {
  it("sums a transaction's moves per label pair and namespace, leaving out what nets to zero", () => {
    const tallies = new Tallies();
    expect(tallies.empty).toBe(true);
    tallies.move(undefined, { namespace: "a", labels: { tier: "gold", env: "prod" } });
    tallies.move(
      { namespace: "a", labels: { tier: "gold", env: "prod" } },
      { namespace: "b", labels: { tier: "gold" } },
    );
    tallies.move(undefined, { namespace: "b", labels: { tier: "silver" } });
    expect(tallies.decreased).toBe(true);
    expect(tallies.columns("label")).toEqual({
      first: ["tier", "tier"],
      second: ["gold", "silver"],
      deltas: [1, 1],
    });
    expect(tallies.columns("namespace")).toEqual({ first: ["b"], second: [""], deltas: [2] });
  });

  it("counts a removal against what the vcluster carried, and starts afresh once cleared", () => {
    const tallies = new Tallies();
    tallies.move({ namespace: "a", labels: { tier: "gold" } }, undefined);
    expect(tallies.columns("label").deltas).toEqual([-1]);
    expect(tallies.columns("namespace").deltas).toEqual([-1]);
    tallies.clear();
    expect(tallies.empty).toBe(true);
    expect(tallies.decreased).toBe(false);
    // A write that changes neither labels nor namespace changes no tally.
    tallies.move({ namespace: "a", labels: { tier: "gold" } }, { namespace: "a", labels: { tier: "gold" } });
    expect(tallies.empty).toBe(true);
  });
});
