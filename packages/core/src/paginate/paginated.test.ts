import { describe, expect, it } from "vitest";
import { type Page, Paginated, RepeatedPageTokenError } from "./paginated.js";

function pages(list: Record<string, Page<number>>) {
  const requested: string[] = [];
  const fetcher = async (token: string) => {
    requested.push(token);
    const page = list[token];
    if (!page) throw new Error(`unexpected token ${token}`);
    return page;
  };
  return { fetcher, requested };
}

const page = (items: number[], nextPageToken: string): Page<number> => ({ items, nextPageToken, totalCount: 5 });

describe("Paginated", () => {
  it("yields every item across pages and keeps going through empty pages while a token exists", async () => {
    const p = pages({ "": page([1, 2], "a"), a: page([], "b"), b: page([], "c"), c: page([3], "") });
    const items: number[] = [];
    for await (const item of new Paginated(p.fetcher)) items.push(item);
    expect(items).toEqual([1, 2, 3]);
    expect(p.requested).toEqual(["", "a", "b", "c"]);
  });

  it("exposes whole pages with their tokens and totals", async () => {
    const p = pages({ "": page([1], "a"), a: page([2], "") });
    const seen: Page<number>[] = [];
    for await (const pg of new Paginated(p.fetcher).pages()) seen.push(pg);
    expect(seen.map((s) => [s.items, s.nextPageToken, s.totalCount])).toEqual([
      [[1], "a", 5],
      [[2], "", 5],
    ]);
  });

  it("resumes from a checkpoint token", async () => {
    const p = pages({ "": page([1], "a"), a: page([2], "") });
    expect(await new Paginated(p.fetcher, { pageToken: "a" }).toArray({ limit: 10 })).toEqual([2]);
  });

  it("throws instead of looping when the server repeats a token", async () => {
    const p = pages({ "": page([1], "a"), a: page([2], "b"), b: page([3], "a") });
    const items: number[] = [];
    const error = await (async () => {
      for await (const item of new Paginated(p.fetcher)) items.push(item);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(RepeatedPageTokenError);
    expect(items).toEqual([1, 2, 3]);
  });

  it("toArray requires a limit and fetches no more pages than it needs", async () => {
    const p = pages({ "": page([1, 2], "a"), a: page([3, 4], "b"), b: page([5], "") });
    const paginated = new Paginated(p.fetcher);
    await expect(paginated.toArray(undefined as unknown as { limit: number })).rejects.toThrow(TypeError);
    expect(await paginated.toArray({ limit: 3 })).toEqual([1, 2, 3]);
    expect(p.requested).toEqual(["", "a"]);
    expect(await paginated.toArray({ limit: Number.POSITIVE_INFINITY })).toEqual([1, 2, 3, 4, 5]);
  });

  it("stops on abort and passes the signal to each page request", async () => {
    const controller = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    const paginated = new Paginated(
      async (token, signal) => {
        signals.push(signal);
        if (token === "a") controller.abort(new Error("stop"));
        return page([1], token === "" ? "a" : "b");
      },
      { signal: controller.signal },
    );
    await expect(paginated.toArray({ limit: 10 })).rejects.toThrow("stop");
    expect(signals).toEqual([controller.signal, controller.signal]);
  });
});
