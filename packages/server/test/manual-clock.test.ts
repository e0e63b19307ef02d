import { createClient } from "@connectrpc/connect";
import { Phase, VClusterService } from "@open-vcluster/api";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiServer, createInProcessTransport, ManualClock } from "../src/index.js";

let server: ApiServer | undefined;
afterEach(() => server?.close());

/** Lets background work parked on the clock run to its next sleep. */
async function settle(clock: ManualClock, parked: number): Promise<void> {
  for (let i = 0; i < 100 && clock.pendingSleeps < parked; i++) await new Promise((r) => setImmediate(r));
}

describe("the lifecycle under a test clock", () => {
  it("moves phases exactly when the simulated durations have passed, independent of the wall clock", async () => {
    const clock = new ManualClock();
    const inProcess = createInProcessTransport({ clock, timeScale: 1 });
    server = inProcess.server;
    const vclusters = createClient(VClusterService, inProcess.transport);
    const phase = async () => (await vclusters.getVCluster({ name: "timed" })).vcluster?.status?.phase;

    await vclusters.createVCluster({ name: "timed" });
    await settle(clock, 1);
    clock.advance(2999);
    await settle(clock, 1);
    expect(await phase()).toBe(Phase.CREATING);
    clock.advance(1);
    await server.idle();
    expect(await phase()).toBe(Phase.RUNNING);
    const created = (await vclusters.getVCluster({ name: "timed" })).vcluster;
    expect(created?.status?.readyTime?.seconds).toBe(BigInt(Math.floor(clock.now().getTime() / 1000)));

    await vclusters.suspendVCluster({ name: "timed" });
    await settle(clock, 1);
    clock.advance(1000);
    await server.idle();
    expect(await phase()).toBe(Phase.SUSPENDED);
  });
});
