import { Annotations, WatchEventType } from "@open-vcluster/api";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { benchVCluster, storeSpec, tempDir } from "./fixtures.ts";
import { type Summary, summarize } from "./stats.ts";

export interface ReplicaWatchResult {
  path: "same replica" | "across replicas";
  latency: Summary;
}

/**
 * Commit-to-delivery latency of a watch event on PostgreSQL: one write at a time is committed
 * through replica A (its transaction has returned), and the time until a watcher on replica B
 * (or, for comparison, on A itself) receives it is measured. Writes are sequential, so no
 * event waits behind another.
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
      for (let i = 0; i < changes; i++) {
        const vcluster = benchVCluster(i + (path === "same replica" ? changes : 0));
        vcluster.namespace = `watched-${path.length}`;
        const stored = await a.store.transaction((tx) => tx.putVCluster(vcluster));
        const committed = performance.now();
        const version = Number(stored.annotations[Annotations.resourceVersion]);
        if (!arrivals.has(version)) await new Promise<void>((resolve) => waiting.set(version, resolve));
        latencies.push((arrivals.get(version) ?? committed) - committed);
      }
      abort.abort();
      await reading;
      results.push({ path, latency: summarize(latencies) });
    }
    return results;
  } finally {
    for (const server of servers) await server.close();
    dir.remove();
  }
}
