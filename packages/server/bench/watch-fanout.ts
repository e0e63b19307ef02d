import { setImmediate as nextTick } from "node:timers/promises";
import { Annotations, WatchEventType } from "@open-vcluster/api";
import { startServer } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { benchVCluster, storeSpec, tempDir } from "./fixtures.ts";
import type { StoreKind } from "./list-pages.ts";
import { collectGarbage, type Summary, summarize } from "./stats.ts";

export interface FanoutResult {
  store: StoreKind;
  watchers: number;
  changes: number;
  /** Per change: from its commit until the last watcher had it. */
  latency: Summary;
  /** From the first commit until every watcher had every change. */
  drainMs: number;
  /** Heap growth per open watch (server and client state: both run in this process). */
  heapPerWatcher: number;
}

const NAMESPACE = "watched";

/**
 * Opens `watchers` gRPC watch streams (one HTTP/2 connection) on an empty namespace, then
 * commits `changes` writes straight to the store, yielding to the event loop every `chunk`
 * commits as a busy RPC server would.
 */
export async function benchFanout(store: StoreKind, watchers: number, changes: number): Promise<FanoutResult> {
  const dir = tempDir();
  const server = await startServer({
    port: 0,
    timeScale: 0,
    logger: false,
    store: await storeSpec(store, dir.path),
  });
  const abort = new AbortController();
  try {
    const client = vclusterClient(server.url, "grpc-h2");
    const commitTimes = new Map<number, number>();
    const lastSeen = new Map<number, number>();
    let delivered = 0;
    let allDelivered: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allDelivered = resolve;
    });
    collectGarbage();
    const before = process.memoryUsage();
    const ready: Promise<void>[] = [];
    const streams: Promise<void>[] = [];
    for (let w = 0; w < watchers; w++) {
      let markReady: () => void = () => {};
      ready.push(new Promise((resolve) => (markReady = resolve)));
      const stream = client.watchVCluster({ namespace: NAMESPACE }, { signal: abort.signal });
      streams.push(
        (async () => {
          for await (const event of stream) {
            // The first heartbeat ends the (empty) initial state: the watch is registered.
            if (event.type === WatchEventType.UNSPECIFIED) {
              markReady();
              continue;
            }
            const now = performance.now();
            const version = Number(event.vcluster?.annotations[Annotations.resourceVersion]);
            lastSeen.set(version, Math.max(lastSeen.get(version) ?? 0, now));
            if (++delivered === watchers * changes) allDelivered();
          }
        })().catch((error: unknown) => {
          if (!abort.signal.aborted) throw error;
        }),
      );
    }
    await Promise.all(ready);
    collectGarbage();
    const opened = process.memoryUsage();

    const chunk = 10;
    const start = performance.now();
    for (let i = 0; i < changes; i++) {
      const vcluster = benchVCluster(i);
      vcluster.namespace = NAMESPACE;
      const stored = await server.store.transaction((tx) => tx.putVCluster(vcluster));
      commitTimes.set(Number(stored.annotations[Annotations.resourceVersion]), performance.now());
      if (i % chunk === chunk - 1) await nextTick();
    }
    await done;
    const drainMs = performance.now() - start;
    const latencies = [...commitTimes].map(([version, committed]) => (lastSeen.get(version) ?? Number.NaN) - committed);
    abort.abort();
    await Promise.all(streams);
    return {
      store,
      watchers,
      changes,
      latency: summarize(latencies),
      drainMs,
      heapPerWatcher: (opened.heapUsed - before.heapUsed) / watchers,
    };
  } finally {
    abort.abort();
    await server.close();
    dir.remove();
  }
}
