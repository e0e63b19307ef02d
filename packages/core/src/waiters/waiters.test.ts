import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { SnapshotService, SnapshotStatus } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { drive, until } from "../../test/drive.js";
import { FakeVClusterBackend, Phase } from "../../test/fake-vcluster-backend.js";
import { bindHelpers } from "../client/api-client.js";
import { ManualClock } from "../time/manual-clock.js";
import { WaitFailedError, WaitTimeoutError } from "./wait-errors.js";

function setup(snapshotStatuses: SnapshotStatus[] = []) {
  const clock = new ManualClock();
  const backend = new FakeVClusterBackend();
  let polls = 0;
  const transport = createRouterTransport((router) => {
    backend.routes(router);
    router.service(SnapshotService, {
      getSnapshot: (req) => {
        const status = snapshotStatuses[Math.min(polls++, snapshotStatuses.length - 1)];
        if (status === undefined) throw new ConnectError("gone", Code.NotFound);
        return { snapshot: { id: req.id, status } };
      },
    });
  });
  const api = bindHelpers(transport, { clock, random: () => 0.5 });
  return { clock, backend, api, polls: () => polls };
}

describe("waiters", () => {
  it("waitUntilRunning resolves on the watch event that reports RUNNING, reporting progress", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.CREATING);
    const progress: Phase[] = [];
    const waiting = t.api.waitUntilRunning({ name: "a" }, { onProgress: (v) => progress.push(v.status?.phase ?? 0) });
    await until(() => t.backend.openedStreams === 1);
    t.backend.put("default", "a", Phase.RUNNING);
    const vcluster = await waiting;
    expect(vcluster.status?.phase).toBe(Phase.RUNNING);
    expect(progress).toEqual([Phase.CREATING, Phase.RUNNING]);
    expect(t.clock.now()).toBe(0);
  });

  it("fails at once on phase ERROR with the reason", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.RESUMING);
    const waiting = t.api.waitUntilRunning({ name: "a" }).catch((e) => e);
    await until(() => t.backend.openedStreams === 1);
    t.backend.put("default", "a", Phase.ERROR, { status: { reason: "ProviderFailed", message: "boom" } } as never);
    const error = await waiting;
    expect(error).toBeInstanceOf(WaitFailedError);
    expect(error.reason).toBe("ProviderFailed");
    expect(error.lastObserved.status.phase).toBe(Phase.ERROR);
  });

  it("times out with the last observed object", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.SUSPENDED);
    const waiting = t.api.waitUntilSuspended({ name: "b" }).catch((e) => e);
    expect((await waiting).code).toBe(Code.NotFound);
    t.backend.put("default", "a", Phase.RUNNING);
    const timed = t.api.waitUntilSuspended({ name: "a" }, { timeoutMs: 5000 }).catch((e) => e);
    await until(() => t.backend.openedStreams === 1);
    await t.clock.advance(5000);
    const error = await timed;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.lastObserved.status.phase).toBe(Phase.RUNNING);
  });

  it("waitUntilDeleted resolves on DELETED, and at once when the vcluster is already gone", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.DELETING);
    const waiting = t.api.waitUntilDeleted({ name: "a" });
    await until(() => t.backend.openedStreams === 1);
    t.backend.remove("default", "a");
    await expect(waiting).resolves.toBeUndefined();
    await expect(t.api.waitUntilDeleted({ name: "a" })).resolves.toBeUndefined();
  });

  it("waitUntilRunning stops when the caller aborts", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.CREATING);
    const controller = new AbortController();
    const waiting = t.api.waitUntilRunning({ name: "a" }, { signal: controller.signal }).catch((e) => e);
    await until(() => t.backend.openedStreams === 1);
    controller.abort(new Error("user cancelled"));
    expect((await waiting).message).toBe("user cancelled");
  });

  it("waitUntilSnapshotReady polls with growing delays until READY", async () => {
    const t = setup([SnapshotStatus.CREATING, SnapshotStatus.CREATING, SnapshotStatus.READY]);
    const snapshot = await drive(t.clock, t.api.waitUntilSnapshotReady("s1"));
    expect(snapshot.status).toBe(SnapshotStatus.READY);
    expect(t.polls()).toBe(3);
    // Each delay is half the step plus jitter over the other half (random 0.5): 125+62, 250+125.
    expect(t.clock.now()).toBe(187 + 375);
  });

  it("waitUntilSnapshotReady fails at once on FAILED", async () => {
    const t = setup([SnapshotStatus.FAILED]);
    const error = await drive(t.clock, t.api.waitUntilSnapshotReady("s1")).catch((e) => e);
    expect(error).toBeInstanceOf(WaitFailedError);
    expect(error.reason).toBe("FAILED");
  });
});
