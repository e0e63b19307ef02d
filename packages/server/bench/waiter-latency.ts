import { Phase, WatchEventType } from "@open-vcluster/api";
import { systemClock, waitUntilRunning } from "@open-vcluster/core";
import { startServer } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { type Summary, summarize } from "./stats.ts";

/**
 * From the commit that makes a vcluster RUNNING to the moment the client's `waitUntilRunning`
 * resolves: each create's provisioning finishes in the background (time scale 0.002, so a few
 * milliseconds), the store's subscriber stamps the commit, the waiter (driven by a watch over
 * gRPC) stamps its resolution. Waits run one after another so none queues behind another.
 */
export async function benchWaiterLatency(waits: number): Promise<Summary> {
  const server = await startServer({ port: 0, timeScale: 0.002, logger: false, store: "memory" });
  try {
    const client = vclusterClient(server.url, "grpc-h2");
    const runningAt = new Map<string, number>();
    const unsubscribe = server.store.subscribe((events) => {
      const now = performance.now();
      for (const event of events) {
        if (event.type !== WatchEventType.DELETED && event.vcluster.status?.phase === Phase.RUNNING) {
          if (!runningAt.has(event.vcluster.name)) runningAt.set(event.vcluster.name, now);
        }
      }
    });
    const ctx = { client, clock: systemClock, random: Math.random };
    const latencies: number[] = [];
    for (let i = 0; i < waits + 5; i++) {
      const name = `wait-${i}`;
      const created = await client.createVCluster({ name, namespace: "bench" });
      const after = created.vcluster;
      await waitUntilRunning(ctx, { name, namespace: "bench" }, { ...(after ? { after } : {}), timeoutMs: 60_000 });
      const resolved = performance.now();
      const committed = runningAt.get(name);
      if (committed === undefined) throw new Error(`${name} resolved before the RUNNING commit was seen`);
      // The first few warm up the watch and JIT.
      if (i >= 5) latencies.push(resolved - committed);
    }
    unsubscribe();
    return summarize(latencies);
  } finally {
    await server.close();
  }
}
