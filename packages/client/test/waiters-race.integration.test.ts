import { Annotations, Phase, type VCluster } from "@open-vcluster/api";
import { ManualClock as ClientClock, isSettled, type VClusterWaitOptions, WaitFailedError } from "@open-vcluster/core";
import { ManualClock, type RunningServer, startServer } from "@open-vcluster/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";

// A waiter started right after a mutation must never resolve on the state before that
// operation (nor on an intermediate state of it): the server's lifecycle runs on a manual
// clock here, so every operation stays under way until the test lets it finish.
let clock: ManualClock;
let server: RunningServer;
let client: ReturnType<typeof createClient>;

beforeEach(async () => {
  clock = new ManualClock();
  server = await startServer({ port: 0, logger: false, clock, timeScale: 1, faultInjection: true });
  client = createClient({ baseUrl: server.url });
});

afterEach(async () => {
  await server.close();
});

function turns(count = 20): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < count; i++) p = p.then(() => new Promise<void>((r) => setImmediate(r)));
  return p;
}

/** Lets every operation under way run to its end (grace periods and follow-up steps included). */
async function finishOperations(): Promise<void> {
  let idle = false;
  const done = server.api.idle().then(() => {
    idle = true;
  });
  while (!idle) {
    clock.advance(60_000);
    await turns(1);
  }
  await done;
}

// An etcd backing store, so the control plane may run more than one replica.
const etcd = "controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: true\n";

async function running(name: string): Promise<VCluster> {
  await client.vclusters.createVCluster({ name, spec: { helmValues: etcd } });
  await finishOperations();
  const got = (await client.vclusters.getVCluster({ name })).vcluster;
  if (got?.status?.phase !== Phase.RUNNING) throw new Error(`${name} did not become RUNNING`);
  return got;
}

/**
 * Starts a wait and resolves once the waiter has seen its first state (and had time to act on
 * it): the returned probe tells whether the wait has settled.
 */
async function startWait<T>(wait: (options: VClusterWaitOptions) => Promise<T>, after?: VCluster) {
  const observed: VCluster[] = [];
  const awaited = new Set<{ test: (v: VCluster) => boolean; resolve: () => void }>();
  /** Resolves once the waiter has been shown a state that passes `test`. */
  const sees = (test: (v: VCluster) => boolean) =>
    new Promise<void>((resolve) => {
      if (observed.some(test)) resolve();
      else awaited.add({ test, resolve });
    });
  const seen = sees(() => true);
  const outcome = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  const controller = new AbortController();
  const promise = wait({
    ...(after ? { after } : {}),
    signal: controller.signal,
    timeoutMs: 60_000,
    onProgress: (v) => {
      observed.push(v);
      for (const entry of [...awaited]) {
        if (!entry.test(v)) continue;
        awaited.delete(entry);
        entry.resolve();
      }
    },
  }).then(
    (value) => {
      outcome.settled = true;
      outcome.value = value;
      return value;
    },
    (error: unknown) => {
      outcome.settled = true;
      outcome.error = error;
      throw error;
    },
  );
  promise.catch(() => undefined);
  await seen;
  await turns();
  return { outcome, promise, observed, sees, abort: () => controller.abort(new Error("test done")) };
}

function expectOutcomeOf(vcluster: VCluster | undefined, operationId: string, phase: Phase) {
  expect(vcluster?.status?.phase).toBe(phase);
  expect(vcluster?.annotations[Annotations.operationId]).toBe(operationId);
  expect(vcluster && isSettled(vcluster)).toBe(true);
}

describe.each([
  { anchored: true, label: "anchored on the mutation's response" },
  { anchored: false, label: "by reference only" },
])("waiters right after a mutation, $label", ({ anchored }) => {
  const anchor = (v: VCluster | undefined) => (anchored ? v : undefined);

  it("create: waitUntilRunning waits for the provisioning to end", async () => {
    const res = await client.vclusters.createVCluster({ name: "w-create" });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-create" }, o), anchor(res.vcluster));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await w.promise, res.operationId, Phase.RUNNING);
  });

  it("update: waitUntilRunning waits for the upgrade to end", async () => {
    await running("w-update");
    const res = await client.vclusters.updateVCluster({
      name: "w-update",
      spec: { replicas: 2 },
      updateMask: { paths: ["spec.replicas"] },
    });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-update" }, o), anchor(res.vcluster));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    const done = await w.promise;
    expectOutcomeOf(done, res.operationId, Phase.RUNNING);
    expect(done.status?.readyReplicas).toBe(2);
  });

  it("scale: waitUntilRunning waits for the resize to end", async () => {
    await running("w-scale");
    const res = await client.vclusters.scaleVCluster({ name: "w-scale", replicas: 3 });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-scale" }, o), anchor(res.vcluster));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    const done = await w.promise;
    expectOutcomeOf(done, res.operationId, Phase.RUNNING);
    expect(done.status?.readyReplicas).toBe(3);
  });

  it("suspend: waitUntilSuspended waits, and waitUntilRunning never takes the RUNNING state before it", async () => {
    await running("w-suspend");
    const res = await client.vclusters.suspendVCluster({ name: "w-suspend" });
    // Suspending has no phase of its own: the response is RUNNING, not ready.
    expect(res.vcluster?.status?.phase).toBe(Phase.RUNNING);
    const suspended = await startWait((o) => client.waitUntilSuspended({ name: "w-suspend" }, o), anchor(res.vcluster));
    const up = await startWait((o) => client.waitUntilRunning({ name: "w-suspend" }, o), anchor(res.vcluster));
    expect(suspended.outcome.settled).toBe(false);
    expect(up.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await suspended.promise, res.operationId, Phase.SUSPENDED);
    if (anchored) {
      // The caller's operation ended SUSPENDED: RUNNING cannot follow from it, so the wait says so.
      const error = await up.promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitFailedError);
      expect((error as WaitFailedError<VCluster>).reason).toBe("OperationFinished");
      expect((error as WaitFailedError<VCluster>).lastObserved?.status?.phase).toBe(Phase.SUSPENDED);
    } else {
      await turns();
      expect(up.outcome.settled).toBe(false);
      up.abort();
    }
  });

  it("suspend with a snapshot: no wait stops at the RUNNING state between snapshot and suspend", async () => {
    await running("w-suspend-snap");
    const res = await client.vclusters.suspendVCluster({ name: "w-suspend-snap", createSnapshot: true });
    expect(res.vcluster?.status?.phase).toBe(Phase.SNAPSHOTTING);
    const suspended = await startWait(
      (o) => client.waitUntilSuspended({ name: "w-suspend-snap" }, o),
      anchor(res.vcluster),
    );
    const up = await startWait((o) => client.waitUntilRunning({ name: "w-suspend-snap" }, o));
    // One step: the snapshot completes and the vcluster is RUNNING again, with the suspend to come.
    clock.advance(DEFAULT_STEP_MS);
    await up.sees((v) => v.status?.phase === Phase.RUNNING);
    await turns();
    expect(up.outcome.settled).toBe(false);
    expect(suspended.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await suspended.promise, res.operationId, Phase.SUSPENDED);
    expect(up.outcome.settled).toBe(false);
    up.abort();
  });

  it("resume: waitUntilRunning waits for the control plane to start", async () => {
    await running("w-resume");
    await client.vclusters.suspendVCluster({ name: "w-resume" });
    await finishOperations();
    const res = await client.vclusters.resumeVCluster({ name: "w-resume" });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-resume" }, o), anchor(res.vcluster));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await w.promise, res.operationId, Phase.RUNNING);
  });

  it("snapshot: waitUntilRunning waits for the capture to end (the response carries no vcluster)", async () => {
    await running("w-snapshot");
    const res = await client.vclusters.snapshotVCluster({ name: "w-snapshot", snapshotName: "s1" });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-snapshot" }, o));
    expect(w.observed[0]?.status?.phase).toBe(Phase.SNAPSHOTTING);
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    const done = await w.promise;
    expectOutcomeOf(done, res.operationId, Phase.RUNNING);
    expect(done.status?.lastSnapshot?.id).toBe(res.snapshot?.id);
  });

  it("restore: waitUntilRunning waits for the restore to end", async () => {
    await running("w-restore");
    const snap = await client.vclusters.snapshotVCluster({ name: "w-restore", snapshotName: "r1" });
    await finishOperations();
    const res = await client.vclusters.restoreVCluster({ name: "w-restore", snapshotId: snap.snapshot?.id ?? "" });
    const w = await startWait((o) => client.waitUntilRunning({ name: "w-restore" }, o), anchor(res.vcluster));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await w.promise, res.operationId, Phase.RUNNING);
  });

  it("delete: waitUntilDeleted waits for the removal", async () => {
    const before = await running("w-delete");
    await client.vclusters.deleteVCluster({ name: "w-delete" });
    const w = await startWait((o) => client.waitUntilDeleted({ name: "w-delete" }, o), anchor(before));
    expect(w.observed[0]?.status?.phase).toBe(Phase.DELETING);
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    await expect(w.promise).resolves.toBeUndefined();
  });
});

describe("the general waiter", () => {
  it("waits for a condition of the operation's outcome, not of the state before it", async () => {
    await running("g-ready");
    const res = await client.vclusters.scaleVCluster({ name: "g-ready", replicas: 2 });
    const w = await startWait((o) => client.waitFor({ name: "g-ready" }, { condition: "Ready" }, o), res.vcluster);
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await w.promise, res.operationId, Phase.RUNNING);
  });

  it("waits for a predicate; settledOnly: false also matches transitional states", async () => {
    await running("g-pred");
    const res = await client.vclusters.scaleVCluster({ name: "g-pred", replicas: 2 });
    const during = await client.waitFor({ name: "g-pred" }, (v) => v.status?.phase === Phase.SCALING, {
      settledOnly: false,
    });
    expect(during.status?.phase).toBe(Phase.SCALING);
    const w = await startWait((o) => client.waitFor({ name: "g-pred" }, (v) => (v.status?.readyReplicas ?? 0) >= 2, o));
    expect(w.outcome.settled).toBe(false);
    await finishOperations();
    expectOutcomeOf(await w.promise, res.operationId, Phase.RUNNING);
  });

  it("fails at once on ERROR and on NotFound, and a timeout carries the last state seen", async () => {
    await running("g-fail");
    await running("g-time");
    server.faults.provider.inject({ kind: "scale", mode: "fail", message: "quota exceeded" });
    await client.vclusters.scaleVCluster({ name: "g-fail", replicas: 2 });
    const failing = await startWait((o) => client.waitFor({ name: "g-fail" }, { condition: "Ready" }, o));
    await finishOperations();
    const error = await failing.promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitFailedError);
    expect((error as WaitFailedError<VCluster>).reason).toBe("ProviderFailed");
    expect((error as WaitFailedError<VCluster>).lastObserved?.status?.phase).toBe(Phase.ERROR);

    const missing = await client.waitFor({ name: "nope" }, { condition: "Ready" }).catch((e: unknown) => e);
    expect((missing as { code?: number }).code).toBe(5); // NotFound

    // The timeout runs on a clock of the test's, moved only once the waiter has seen a state, so
    // "the last state seen" is there however slowly the first one arrives.
    const waitClock = new ClientClock();
    const timing = createClient({ baseUrl: server.url, clock: waitClock });
    let firstSeen = () => {};
    const seen = new Promise<void>((resolve) => {
      firstSeen = resolve;
    });
    const timing$ = timing
      .waitFor({ name: "g-time" }, { condition: "Suspended" }, { timeoutMs: 50, onProgress: () => firstSeen() })
      .catch((e: unknown) => e);
    await seen;
    await waitClock.advance(50);
    const timed = await timing$;
    expect((timed as Error).name).toBe("WaitTimeoutError");
    expect((timed as { lastObserved?: VCluster }).lastObserved?.name).toBe("g-time");
  });
});

/** The snapshot step of the simulated provider (1.5 s): enough to finish it, not the suspend after it. */
const DEFAULT_STEP_MS = 1500;
