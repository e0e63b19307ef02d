import { Code } from "@connectrpc/connect";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RetryEvent } from "../src/index.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, timeScale: 0.001, logger: false, faultInjection: true });
});
afterAll(async () => {
  await server?.close();
});

describe("retries against the real server", () => {
  it.each(["connect", "grpc", "grpc-web"] as const)(
    "creates exactly one vcluster when the first two responses are lost (%s)",
    async (protocol) => {
      const retries: RetryEvent[] = [];
      const client = createClient({
        baseUrl: server.url,
        protocol,
        retry: { random: () => 0, onRetry: (e) => retries.push(e) },
      });
      const name = `retry-${protocol.replace("-", "")}`;
      server.faults.rpc.inject({ procedure: "CreateVCluster", code: Code.Unavailable, count: 2, when: "after" });
      const res = await client.vclusters.createVCluster({ name, namespace: "retries" });
      expect(res.vcluster?.name).toBe(name);
      expect(retries).toHaveLength(2);
      const list = await client.paginateVClusters({ namespace: "retries" }).toArray({ limit: 100 });
      expect(list.filter((v) => v.name === name)).toHaveLength(1);
    },
  );

  it("waiters follow the lifecycle through the watch stream", async () => {
    const client = createClient({ baseUrl: server.url });
    const ref = { name: "lifecycle", namespace: "waiters" };
    await client.vclusters.createVCluster(ref);
    expect((await client.waitUntilRunning(ref, { timeoutMs: 120_000 })).status?.phase).toBeDefined();
    await client.vclusters.suspendVCluster(ref);
    const suspended = await client.waitUntilSuspended(ref, { timeoutMs: 120_000 });
    expect(suspended.annotations["loft.sh/paused"]).toBe("true");
    await client.vclusters.resumeVCluster(ref);
    await client.waitUntilRunning(ref, { timeoutMs: 120_000 });
    const snap = await client.vclusters.snapshotVCluster(ref);
    const ready = await client.waitUntilSnapshotReady(snap.snapshot?.id ?? "", { timeoutMs: 120_000 });
    expect(ready.id).toBe(snap.snapshot?.id);
    await client.vclusters.deleteVCluster(ref);
    await client.waitUntilDeleted(ref, { timeoutMs: 120_000 });
    await expect(client.vclusters.getVCluster(ref)).rejects.toMatchObject({ code: Code.NotFound });
  });
});
