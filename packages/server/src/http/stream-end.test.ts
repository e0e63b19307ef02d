import { describe, expect, it } from "vitest";
import { onStreamEnd, type StreamEnd } from "./stream-end.js";

async function* messages(count: number, failWith?: Error) {
  for (let i = 0; i < count; i++) yield i;
  if (failWith) throw failWith;
}

describe("onStreamEnd", () => {
  it("passes every message through and tells once that they were all taken", async () => {
    const ends: StreamEnd[] = [];
    const seen: number[] = [];
    for await (const m of onStreamEnd(messages(3), (end) => ends.push(end))) seen.push(m);
    expect(seen).toEqual([0, 1, 2]);
    expect(ends).toEqual([{ kind: "done" }]);
  });

  it("tells of a failure with the mapped error, which the consumer then gets", async () => {
    const ends: StreamEnd[] = [];
    const mapped = new Error("mapped");
    const seen: number[] = [];
    const stream = onStreamEnd(
      messages(2, new Error("raw")),
      (end) => ends.push(end),
      () => mapped,
    );
    await expect(
      (async () => {
        for await (const m of stream) seen.push(m);
      })(),
    ).rejects.toBe(mapped);
    expect(seen).toEqual([0, 1]);
    expect(ends).toEqual([{ kind: "failed", error: mapped }]);
  });

  it("tells that the consumer stopped early, and stops the messages underneath", async () => {
    const ends: StreamEnd[] = [];
    let finallyRan = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finallyRan = true;
      }
    }
    for await (const m of onStreamEnd(endless(), (end) => ends.push(end))) if (m === 2) break;
    expect(ends).toEqual([{ kind: "stopped" }]);
    expect(finallyRan).toBe(true);
  });

  it("nests: each layer sees the stream end once, in order from the inside out", async () => {
    const order: string[] = [];
    const inner = onStreamEnd(messages(1), (end) => order.push(`inner ${end.kind}`));
    const outer = onStreamEnd(inner, (end) => order.push(`outer ${end.kind}`));
    for await (const _ of outer) order.push("message");
    expect(order).toEqual(["message", "inner done", "outer done"]);
  });
});
