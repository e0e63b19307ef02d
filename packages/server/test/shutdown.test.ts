import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Phase, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";
import { clientsFor, testServer, transportFor } from "./support.js";

describe("graceful shutdown", () => {
  it("finishes an in-flight call, ends open watches cleanly and leaves a store that reopens", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "vc-shutdown-")), "vc.db");
    const server = await testServer({ store: `sqlite:${db}`, heartbeatIntervalMs: 60_000 });
    const h2 = clientsFor(transportFor(server, "grpc"));
    const h1 = clientsFor(transportFor(server, "connect", "1.1"));
    const watches = [h2, h1].map((c) => c.vc.watchVCluster({})[Symbol.asyncIterator]());
    for (const w of watches) expect((await w.next()).value?.type).toBe(WatchEventType.UNSPECIFIED);

    // The provider takes a while, and the call waits for it.
    server.faults.provider.inject({ kind: "create", mode: "slow", delayMs: 200 });
    const creating = h2.vc.createVCluster({ name: "slow", waitForReady: true, timeoutSeconds: 60 });
    // Once the watchers see it, the call has committed and is waiting for the provider.
    for (const w of watches) {
      const ev = (await w.next()).value;
      expect(ev?.type).toBe(WatchEventType.ADDED);
      expect(ev?.vcluster?.status?.phase).toBe(Phase.CREATING);
    }

    const closing = server.close();
    expect(server.api.isReady()).toBe(false);
    // Streams end with OK (done), not with an error or a reset.
    for (const w of watches) expect(await w.next()).toEqual({ done: true, value: undefined });
    const created = await creating;
    expect(created.vcluster?.status?.phase).toBe(Phase.RUNNING);
    await closing;

    const store = openStore(`sqlite:${db}`);
    try {
      const stored = await store.getVCluster("default", "slow");
      expect(stored?.status?.phase).toBe(Phase.RUNNING);
    } finally {
      await store.close();
    }
    const again = await testServer({ store: `sqlite:${db}` });
    const got = await clientsFor(transportFor(again, "grpc")).vc.getVCluster({ name: "slow" });
    expect(got.vcluster?.status?.phase).toBe(Phase.RUNNING);
  });
});
