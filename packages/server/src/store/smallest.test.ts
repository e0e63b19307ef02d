import { describe, expect, it } from "vitest";
import { SmallestK } from "./smallest.js";

const byNumber = (a: number, b: number) => a - b;

function smallest(values: number[], k: number): number[] {
  const top = new SmallestK(k, byNumber);
  for (const v of values) top.offer(v);
  return top.sorted();
}

describe("SmallestK", () => {
  it("returns the k smallest in order, whatever the input order", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(smallest(values, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(smallest([...values].reverse(), 1)).toEqual([0]);
    expect(smallest([...values].sort(byNumber), 3)).toEqual([0, 1, 2]);
  });

  it("returns everything sorted when fewer than k items were offered", () => {
    expect(smallest([3, 1, 2], 10)).toEqual([1, 2, 3]);
    expect(smallest([], 4)).toEqual([]);
  });

  it("keeps equal items up to k", () => {
    expect(smallest([2, 1, 1, 1, 0], 3)).toEqual([0, 1, 1]);
  });

  it("rejects a non-positive k", () => {
    expect(() => new SmallestK(0, byNumber)).toThrow(RangeError);
  });
});
