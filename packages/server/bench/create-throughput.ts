import { startServer } from "@open-vcluster/server";
import { vclusterClient, type Wire } from "./clients.ts";
import { storeSpec, tempDir } from "./fixtures.ts";
import type { StoreKind } from "./list-pages.ts";
import { type Summary, summarize } from "./stats.ts";

export interface CreateResult {
  store: StoreKind;
  wire: Wire;
  concurrency: number;
  perSecond: number;
  latency: Summary;
  /** Time after the last response until background provisioning had settled. */
  settleMs: number;
}

/**
 * CreateVCluster calls from `concurrency` sequential loops for `durationMs`. With timeScale 0
 * the simulated provisioning finishes at once, so each create also commits its lifecycle
 * transitions in the background; those commits compete with the RPCs as they would in
 * production.
 */
export async function benchCreate(
  store: StoreKind,
  wire: Wire,
  concurrency: number,
  durationMs: number,
): Promise<CreateResult> {
  const dir = tempDir();
  const server = await startServer({
    port: 0,
    timeScale: 0,
    logger: false,
    store: await storeSpec(store, dir.path),
  });
  try {
    const client = vclusterClient(server.url, wire);
    let next = 0;
    const create = () =>
      client.createVCluster({
        name: `bench-${(next++).toString(36)}`,
        namespace: "bench",
        labels: { app: "bench", env: "perf" },
        spec: { resources: { cpuRequest: "250m", memoryRequest: "512Mi" } },
      });
    // Warm up connections and code paths.
    await Promise.all(Array.from({ length: concurrency }, create));
    await server.api.idle();
    const latencies: number[] = [];
    const start = performance.now();
    const deadline = start + durationMs;
    const loop = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await create();
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const elapsed = performance.now() - start;
    const settleStart = performance.now();
    await server.api.idle();
    return {
      store,
      wire,
      concurrency,
      perSecond: (latencies.length / elapsed) * 1000,
      latency: summarize(latencies),
      settleMs: performance.now() - settleStart,
    };
  } finally {
    await server.close();
    dir.remove();
  }
}
