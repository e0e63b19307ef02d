import { describe, expect, it } from "vitest";
import { SortedList } from "./sorted-list.js";

const byNumber = (a: number, b: number) => a - b;

describe("SortedList", () => {
  it("keeps items in order through inserts and deletes across many chunks", () => {
    const list = new SortedList(byNumber, 4);
    const model = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = (i * 7919) % 1009;
      if (model.has(value)) {
        expect(list.delete(value)).toBe(true);
        model.delete(value);
      } else {
        list.insert(value);
        model.add(value);
      }
    }
    const sorted = [...model].sort(byNumber);
    expect([...list.after()]).toEqual(sorted);
    expect(list.size).toBe(sorted.length);
    expect(list.delete(5000)).toBe(false);
  });

  it("walks from just after a probe, present or not", () => {
    const list = new SortedList(byNumber, 2);
    for (const v of [10, 30, 20, 50, 40]) list.insert(v);
    expect([...list.after(30)]).toEqual([40, 50]);
    expect([...list.after(25)]).toEqual([30, 40, 50]);
    expect([...list.after(5)]).toEqual([10, 20, 30, 40, 50]);
    expect([...list.after(50)]).toEqual([]);
    expect([...list.after(60)]).toEqual([]);
    expect([...new SortedList(byNumber).after(1)]).toEqual([]);
  });
});
