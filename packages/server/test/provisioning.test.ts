import { Phase, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, testServer, transportFor } from "./support.js";

describe("provisioning capacity", () => {
  it("keeps creates beyond the capacity PENDING, then provisions them in arrival order", async () => {
    const server = await testServer({ maxConcurrentCreates: 1, heartbeatIntervalMs: 60_000 });
    const c = clientsFor(transportFor(server, "connect"));
    // The first create holds its slot until the test lets go of it: how fast the machine is
    // decides nothing.
    server.faults.provider.inject({ kind: "create", mode: "slow", delayMs: 3_600_000, count: 1 });

    const abort = new AbortController();
    const events = c.vc.watchVCluster({ name: "second" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await events.next()).value.type).toBe(WatchEventType.UNSPECIFIED); // empty initial state

    const first = await c.vc.createVCluster({ name: "first" });
    expect(first.vcluster?.status?.phase).toBe(Phase.CREATING);
    const second = await c.vc.createVCluster({ name: "second" });
    expect(second.vcluster?.status?.phase).toBe(Phase.PENDING);
    expect(second.vcluster?.status?.message).toBe("Waiting for provisioning capacity");
    await c.vc.deleteVCluster({ name: "first", force: true });

    const phases: Phase[] = [];
    while (phases.at(-1) !== Phase.RUNNING) {
      const event = (await events.next()).value;
      if (event.type !== WatchEventType.UNSPECIFIED) phases.push(event.vcluster.status.phase);
    }
    expect(phases).toEqual([Phase.PENDING, Phase.CREATING, Phase.RUNNING]);
    abort.abort();
  });

  it("lets a forced delete take a PENDING vcluster out of the queue", async () => {
    const server = await testServer({ maxConcurrentCreates: 1 });
    const c = clientsFor(transportFor(server, "connect"));
    server.faults.provider.inject({ kind: "create", mode: "slow", delayMs: 3_600_000, count: 1 });
    await c.vc.createVCluster({ name: "busy" });
    expect((await c.vc.createVCluster({ name: "queued" })).vcluster?.status?.phase).toBe(Phase.PENDING);
    await c.vc.deleteVCluster({ name: "queued", force: true });
    await c.vc.deleteVCluster({ name: "busy", force: true });
    await server.api.idle();
    await expect(c.vc.getVCluster({ name: "queued" })).rejects.toThrow(/not found/);
    // The queue kept moving: the slot the deleted create would have taken is free again.
    expect((await c.vc.createVCluster({ name: "after" })).vcluster?.status?.phase).toBe(Phase.CREATING);
  });
});
