import type { Interceptor } from "@connectrpc/connect";
import { type VCluster, WatchEventType, type WatchVClusterResponse } from "@open-vcluster/api";
import { type Protocol, resourceVersionOf } from "@open-vcluster/core";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";

// Changes committed while a watch from "" is still sending its initial state must reach the
// client after the bookmark that ends that state: the bookmark may never carry a version
// ahead of an event that is still queued, or the SDK skips the event as already seen.
const namespace = "burst";
const objects = 1500;
const updatesDuringInitialState = 20;
// Padding makes the initial state large (≈ 1.5 MB) so the server is still sending it, held back
// by flow control, while the burst commits.
const padding = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`pad-${i}`, "x".repeat(63)]));

let server: RunningServer;
let direct: ReturnType<typeof createClient>;

beforeAll(async () => {
  // A short history, so the informer's list-then-watch expires and it resyncs from "".
  server = await startServer({ port: 0, timeScale: 0, logger: false, historyLimit: 10, heartbeatIntervalMs: 60_000 });
  direct = createClient({ baseUrl: server.url, timeoutMs: 0 });
  for (let start = 0; start < objects; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, objects - start) }, (_, i) =>
        direct.vclusters.createVCluster({ name: `o-${start + i}`, namespace, labels: padding }),
      ),
    );
  }
  await server.api.idle();
}, 600_000);

afterAll(async () => {
  await server?.close();
});

let round = 0;
/** Changes labels of `count` objects, one after the other, each committed before the next. */
async function touch(count: number, tag: string): Promise<void> {
  round += 1;
  for (let i = 0; i < count; i++) {
    await direct.vclusters.updateVCluster({
      name: `o-${(round * 37 + i * 53) % objects}`,
      namespace,
      labels: { ...padding, touched: `${tag}-${i}` },
      updateMask: { paths: ["labels"] },
    });
  }
}

/** The sentinel: a change committed after the bookmark, so any correct client receives it. */
async function markEnd(tag: string): Promise<void> {
  await direct.vclusters.updateVCluster({
    name: "o-0",
    namespace,
    labels: { ...padding, sentinel: tag },
    updateMask: { paths: ["labels"] },
  });
}

/**
 * Commits a burst right after the first ADDED message of the next watch from "" reached the
 * client (the consumer holds that message, so the rest of the initial state is still on its
 * way), and the sentinel once that stream's first bookmark arrived.
 */
function burstDuringInitialState(tag: string): Interceptor {
  let state: "armed" | "burst" | "done" = "armed";
  return (next) => async (req) => {
    const res = await next(req);
    if (!res.stream || req.method.name !== "WatchVCluster") return res;
    const messages = res.message as AsyncIterable<WatchVClusterResponse>;
    async function* relay() {
      for await (const m of messages) {
        if (state === "armed" && m.type === WatchEventType.ADDED) {
          await touch(updatesDuringInitialState, tag);
          state = "burst";
        } else if (state === "burst" && m.type === WatchEventType.UNSPECIFIED) {
          await markEnd(tag);
          state = "done";
        }
        yield m;
      }
    }
    return { ...res, message: relay() };
  };
}

const fingerprint = (items: Iterable<VCluster>) =>
  [...items].map((v) => `${v.id}@${resourceVersionOf(v)}:${v.labels.touched ?? ""}`).sort();

async function serverState(): Promise<string[]> {
  return fingerprint(await direct.paginateVClusters({ namespace, pageSize: 1000 }).toArray({ limit: objects + 1 }));
}

const protocols: Protocol[] = ["connect", "grpc", "grpc-web"];

describe.each(protocols)("a burst of changes during the initial state of a watch (%s)", (protocol) => {
  it("reaches the SDK's watch after the initial-state bookmark, and the watch converges exactly", async () => {
    const tag = `watch-${protocol}`;
    const client = createClient({
      baseUrl: server.url,
      protocol,
      interceptors: [burstDuringInitialState(tag)],
      // The burst holds the stream for a while on a loaded machine: not a dead server.
      watch: { heartbeatTimeoutMs: 300_000 },
    });
    const watch = client.watch({ namespace });
    const seen = new Map<string, VCluster>();
    for await (const event of watch) {
      if (event.type === WatchEventType.DELETED) seen.delete(event.vcluster.id);
      else seen.set(event.vcluster.id, event.vcluster);
      if (event.vcluster.labels.sentinel === tag) break;
    }
    watch.close();
    expect(seen.size).toBe(objects);
    expect(fingerprint(seen.values())).toEqual(await serverState());
  }, 300_000);

  it("reaches the informer that resyncs from the stream, which converges exactly", async () => {
    const tag = `informer-${protocol}`;
    let listCalls = 0;
    // The second list page comes after more changes than the history keeps: the watch from the
    // first page's version expires at once, so the informer resyncs with a watch from "".
    const outrunHistory: Interceptor = (next) => async (req) => {
      if (req.method.name === "ListVClusters" && ++listCalls === 2) await touch(15, `${tag}-list`);
      return next(req);
    };
    const client = createClient({
      baseUrl: server.url,
      protocol,
      interceptors: [outrunHistory, burstDuringInitialState(tag)],
      watch: { heartbeatTimeoutMs: 300_000 },
    });
    const informer = client.listWatch({ namespace, pageSize: 500, start: false });
    const reachedSentinel = new Promise<void>((resolve) => {
      informer.on({
        onUpdate: (vcluster) => {
          if (vcluster.labels.sentinel === tag) resolve();
        },
      });
    });
    const running = informer.start();
    await reachedSentinel;
    expect(listCalls).toBeGreaterThanOrEqual(2);
    expect(fingerprint(informer.list())).toEqual(await serverState());
    informer.stop();
    await running.catch(() => undefined);
  }, 300_000);
});
