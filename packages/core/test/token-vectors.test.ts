// Runs contract/vectors/token-cache.json (see its README) against this core: token caching
// and what a client does when the server refuses a token. The Go and Python SDKs run it too.
import { readFileSync } from "node:fs";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { VClusterService } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { bindHelpers, cachedToken, clientInterceptors, ManualClock } from "../src/index.js";
import { codeOf } from "./scripted-backend.js";

interface Vectors {
  cache: {
    name: string;
    refreshBeforeMs?: number;
    issued: { token?: string; expiresAtMs?: number; error?: string }[];
    steps: {
      op: "get" | "invalidate";
      atMs?: number;
      token?: string;
      refused?: string;
      error?: boolean;
      fetches?: number;
    }[];
  }[];
  unary: {
    name: string;
    source: "cache" | "function";
    issued: string[];
    answers: string[];
    calls?: number;
    expect: { outcome: string; sent: string[]; fetches: number };
  }[];
  watch: {
    name: string;
    issued: string[];
    streams: string[];
    expect: { sent: string[]; fetches: number; error: string | null };
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../contract/vectors/token-cache.json", import.meta.url), "utf8"),
) as Vectors;

const codeName = (error: unknown) =>
  Code[ConnectError.from(error).code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

describe("vectors: token cache", () => {
  it.each(vectors.cache.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const clock = new ManualClock(0);
    let fetches = 0;
    const token = cachedToken(
      async () => {
        const issued = c.issued[fetches++];
        if (!issued) throw new Error("fetched more than the vector issues");
        if (issued.error) throw new Error(issued.error);
        return {
          token: issued.token ?? "",
          ...(issued.expiresAtMs !== undefined ? { expiresAt: issued.expiresAtMs } : {}),
        };
      },
      { clock, ...(c.refreshBeforeMs !== undefined ? { refreshBeforeMs: c.refreshBeforeMs } : {}) },
    );
    for (const step of c.steps) {
      if (step.op === "invalidate") {
        token.invalidate(step.refused);
        continue;
      }
      await clock.advance((step.atMs ?? 0) - clock.now());
      if (step.error) await expect(token()).rejects.toThrow();
      else await expect(token()).resolves.toBe(step.token);
      expect(fetches).toBe(step.fetches);
    }
  });
});

describe("vectors: refused tokens", () => {
  it.each(vectors.unary.map((c) => [c.name, c] as const))("unary: %s", async (_, c) => {
    const sent: string[] = [];
    const answers = [...c.answers];
    let fetches = 0;
    const fetch = async () => c.issued[fetches++] as string;
    const token = c.source === "cache" ? cachedToken(fetch) : fetch;
    const transport = createRouterTransport(
      (router) =>
        router.service(VClusterService, {
          getVCluster(_req, ctx) {
            sent.push((ctx.requestHeader.get("authorization") ?? "").replace(/^Bearer /, ""));
            const answer = answers.shift();
            if (answer !== "ok") throw new ConnectError("scripted", codeOf(answer ?? "unavailable"));
            return { vcluster: { name: "a" } };
          },
        }),
      { transport: { interceptors: clientInterceptors({ baseUrl: "", token, retry: false }) } },
    );
    const client = bindHelpers(transport, { token });
    let outcome = "ok";
    for (let i = 0; i < (c.calls ?? 1); i++) {
      outcome = await client.vclusters.getVCluster({ name: "a" }).then(
        () => "ok",
        (error: unknown) => codeName(error),
      );
    }
    expect({ outcome, sent, fetches }).toEqual(c.expect);
  });

  it.each(vectors.watch.map((c) => [c.name, c] as const))("watch: %s", async (_, c) => {
    const sent: string[] = [];
    const streams = [...c.streams];
    let fetches = 0;
    const token = cachedToken(async () => c.issued[fetches++] as string);
    const heartbeat = { vcluster: { annotations: { "vcluster.open-vcluster.io/resource-version": "7" } } };
    let served = 0;
    const transport = createRouterTransport(
      (router) =>
        router.service(VClusterService, {
          async *watchVCluster(_req, ctx) {
            sent.push((ctx.requestHeader.get("authorization") ?? "").replace(/^Bearer /, ""));
            served++;
            const stream = streams.shift();
            if (stream === "open") {
              yield heartbeat;
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
              return;
            }
            if (stream === "events_then_unauthenticated") {
              yield heartbeat;
              throw new ConnectError("credentials expired", Code.Unauthenticated);
            }
            throw new ConnectError("scripted", codeOf(stream ?? "unavailable"));
          },
        }),
      { transport: { interceptors: clientInterceptors({ baseUrl: "", token, retry: false }) } },
    );
    const client = bindHelpers(transport, { token });
    // Zero jitter: any reconnect that is not the immediate one after a refusal is immediate too.
    const watch = client.watch({}, { random: () => 0 });
    const consumed = (async () => {
      for await (const _event of watch);
    })().then(
      () => null,
      (error: unknown) => codeName(error),
    );
    if (c.expect.error === null) {
      await expect.poll(() => served, { timeout: 20_000, interval: 5 }).toBe(c.streams.length);
      watch.close();
      await expect(consumed).resolves.toBeNull();
    } else {
      await expect(consumed).resolves.toBe(c.expect.error);
    }
    expect({ sent, fetches }).toEqual({ sent: c.expect.sent, fetches: c.expect.fetches });
  });
});
