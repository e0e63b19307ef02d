import { Annotations, WatchEventType } from "@open-vcluster/api";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { benchVCluster, storeSpec, tempDir } from "./fixtures.ts";
import { type Summary, summarize } from "./stats.ts";

export interface ReplicaWatchResult {
  path: "same replica" | "across replicas";
  /** From the start of the writing transaction until the watcher's client had the event. */
  latency: Summary;
  /** The writing transaction alone (it returns once its own replica delivered the event). */
  transaction: Summary;
}

/**
 * Commit-to-delivery latency of a watch event on PostgreSQL: one write at a time is committed
 * through replica A, and the time from the start of its transaction until a watcher on
 * replica B (or, for comparison, on A itself) receives the event is measured beside the
 * transaction's own duration. Writes are sequential, so no event waits behind another.
 */
export async function benchReplicaWatch(changes: number): Promise<ReplicaWatchResult[]> {
  const dir = tempDir();
  const url = await storeSpec("postgres", dir.path);
  const servers: RunningServer[] = [];
  for (let i = 0; i < 2; i++) {
    servers.push(await startServer({ port: 0, timeScale: 0, logger: false, store: url, secret: "bench" }));
  }
  const [a, b] = servers as [RunningServer, RunningServer];
  try {
    const results: ReplicaWatchResult[] = [];
    for (const [path, watched] of [
      ["across replicas", b],
      ["same replica", a],
    ] as const) {
      const abort = new AbortController();
      const arrivals = new Map<number, number>();
      const waiting = new Map<number, () => void>();
      let ready: () => void = () => {};
      const registered = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const stream = vclusterClient(watched.url, "grpc-h2").watchVCluster(
        { namespace: `watched-${path.length}` },
        { signal: abort.signal },
      );
      const reading = (async () => {
        for await (const event of stream) {
          if (event.type === WatchEventType.UNSPECIFIED) {
            ready();
            continue;
          }
          const version = Number(event.vcluster?.annotations[Annotations.resourceVersion]);
          arrivals.set(version, performance.now());
          waiting.get(version)?.();
        }
      })().catch((error: unknown) => {
        if (!abort.signal.aborted) throw error;
      });
      await registered;
      const latencies: number[] = [];
      const transactions: number[] = [];
      for (let i = 0; i < changes; i++) {
        const vcluster = benchVCluster(i + (path === "same replica" ? changes : 0));
        vcluster.namespace = `watched-${path.length}`;
        const start = performance.now();
        const stored = await a.store.transaction((tx) => tx.putVCluster(vcluster));
        transactions.push(performance.now() - start);
        const version = Number(stored.annotations[Annotations.resourceVersion]);
        if (!arrivals.has(version)) await new Promise<void>((resolve) => waiting.set(version, resolve));
        latencies.push((arrivals.get(version) ?? start) - start);
      }
      abort.abort();
      await reading;
      results.push({ path, latency: summarize(latencies), transaction: summarize(transactions) });
    }
    return results;
  } finally {
    for (const server of servers) await server.close();
    dir.remove();
  }
}
