import { describe, expect, it } from "vitest";
import { readyMessagesOf, withReadyMessages } from "./ready-messages.js";
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

  it("nests failures: each layer maps what the layer inside passed on and hears of its own result", async () => {
    const heard: string[] = [];
    const inner = onStreamEnd(
      messages(1, new Error("raw")),
      (end) => heard.push(`inner ${end.kind} ${end.kind === "failed" ? String(end.error) : ""}`),
      (error) => new Error(`inner(${(error as Error).message})`),
    );
    const outer = onStreamEnd(
      inner,
      (end) => heard.push(`outer ${end.kind} ${end.kind === "failed" ? String(end.error) : ""}`),
      (error) => new Error(`outer(${(error as Error).message})`),
    );
    let caught: unknown;
    try {
      for await (const _ of outer) heard.push("message");
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toBe("outer(inner(raw))");
    expect(heard).toEqual(["message", "inner failed Error: inner(raw)", "outer failed Error: outer(inner(raw))"]);
  });

  it("nests stops: every layer hears once, after the messages underneath stopped", async () => {
    const heard: string[] = [];
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        heard.push("finally");
      }
    }
    const inner = onStreamEnd(endless(), (end) => heard.push(`inner ${end.kind}`));
    const outer = onStreamEnd(inner, (end) => heard.push(`outer ${end.kind}`));
    for await (const m of outer) if (m === 1) break;
    expect(heard).toEqual(["finally", "inner stopped", "outer stopped"]);
  });

  it("nests through a layer of another kind", async () => {
    const heard: string[] = [];
    const inner = onStreamEnd(messages(2), (end) => heard.push(`inner ${end.kind}`));
    async function* doubled(source: AsyncIterable<number>) {
      for await (const m of source) yield m * 2;
    }
    const outer = onStreamEnd(doubled(inner), (end) => heard.push(`outer ${end.kind}`));
    const seen: number[] = [];
    for await (const m of outer) seen.push(m);
    expect(seen).toEqual([0, 2]);
    expect(heard).toEqual(["inner done", "outer done"]);
  });

  it("passes takeReady through, so a transport that knows it still takes waiting messages in one go", async () => {
    const waiting = [1, 2, 3];
    const ends: StreamEnd[] = [];
    const stream = onStreamEnd(
      onStreamEnd(
        withReadyMessages(messages(1), (max) => waiting.splice(0, max)),
        (end) => ends.push(end),
      ),
      (end) => ends.push(end),
    );
    const iterator = stream[Symbol.asyncIterator]();
    const takeReady = readyMessagesOf(iterator);
    expect((await iterator.next()).value).toBe(0);
    expect(takeReady?.(2)).toEqual([1, 2]);
    expect(takeReady?.(2)).toEqual([3]);
    expect(takeReady?.(2)).toEqual([]);
    expect(ends).toEqual([]);
    expect((await iterator.next()).done).toBe(true);
    expect(ends).toEqual([{ kind: "done" }, { kind: "done" }]);
    expect(readyMessagesOf(onStreamEnd(messages(1), () => {})[Symbol.asyncIterator]())).toBeUndefined();
  });
});
