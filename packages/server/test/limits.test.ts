import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, expectError, testServer, transportFor } from "./support.js";

describe("limits", () => {
  it("rejects a request body above maxRequestBytes with RESOURCE_EXHAUSTED and stores nothing", async () => {
    const server = await testServer({ maxRequestBytes: 2048 });
    for (const c of [clientsFor(transportFor(server, "connect", "1.1")), clientsFor(transportFor(server, "grpc"))]) {
      const big = await expectError(() =>
        c.vc.createVCluster({ name: "big", spec: { helmValues: `# ${"x".repeat(4096)}\n` } }),
      );
      expect(big.error.code).toBe(Code.ResourceExhausted);
    }
    const c = clientsFor(transportFor(server, "connect", "1.1"));
    expect((await c.vc.listVClusters({})).totalCount).toBe(0);
    expect(await server.store.currentVersion()).toBe(0);
    // A request under the limit still works.
    await c.vc.createVCluster({ name: "small" });
    expect((await c.vc.listVClusters({})).totalCount).toBe(1);
  });

  it("rejects more than 64 labels with INVALID_ARGUMENT naming the field", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    const labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    const tooMany = await expectError(() => c.vc.createVCluster({ name: "labelled", labels }));
    expect(tooMany.error.code).toBe(Code.InvalidArgument);
    expect(tooMany.detail?.field).toBe("labels");
    expect(tooMany.error.rawMessage).toContain("labels: must have at most 64 labels (got 65)");
    expect((await c.vc.listVClusters({})).totalCount).toBe(0);
    delete labels.k64;
    await c.vc.createVCluster({ name: "labelled", labels });
    expect(Object.keys((await c.vc.getVCluster({ name: "labelled" })).vcluster?.labels ?? {})).toHaveLength(64);
  });

  it("refuses the watch beyond maxWatchersPerPrincipal while the open ones keep working", async () => {
    const server = await testServer({ maxWatchersPerPrincipal: 3, heartbeatIntervalMs: 60_000 });
    const c = clientsFor(transportFor(server, "grpc"));
    const aborts: AbortController[] = [];
    const open = () => {
      const abort = new AbortController();
      aborts.push(abort);
      return c.vc.watchVCluster({}, { signal: abort.signal })[Symbol.asyncIterator]();
    };
    const watches = [open(), open(), open()];
    // The initial-state bookmark arrives once a watch is registered.
    for (const w of watches) expect((await w.next()).value?.type).toBe(WatchEventType.UNSPECIFIED);
    const extra = await expectError(() => open().next());
    expect(extra.error.code).toBe(Code.ResourceExhausted);
    expect(extra.detail?.reason).toBe("RESOURCE_EXHAUSTED");
    expect(extra.detail?.metadata.limit).toBe("3");

    await c.vc.createVCluster({ name: "seen-by-all" });
    for (const w of watches) {
      const ev = (await w.next()).value;
      expect(ev?.type).toBe(WatchEventType.ADDED);
      expect(ev?.vcluster?.name).toBe("seen-by-all");
    }
    for (const a of aborts) a.abort();
  });

  it("coerces a page size above 1000 to 1000", async () => {
    const server = await testServer();
    await server.store.transaction(async (tx) => {
      for (let i = 0; i < 1001; i++) {
        await tx.putVCluster(
          create(VClusterSchema, { id: `id-${i}`, name: `vc-${String(i).padStart(4, "0")}`, namespace: "default" }),
        );
      }
    });
    const c = clientsFor(transportFor(server, "grpc"));
    const first = await c.vc.listVClusters({ pageSize: 5000 });
    expect(first.vclusters).toHaveLength(1000);
    expect(first.totalCount).toBe(1001);
    expect(first.nextPageToken).not.toBe("");
    const rest = await c.vc.listVClusters({ pageSize: 5000, pageToken: first.nextPageToken });
    expect(rest.vclusters.map((v) => v.name)).toEqual(["vc-1000"]);
    expect(rest.nextPageToken).toBe("");
  });
});
