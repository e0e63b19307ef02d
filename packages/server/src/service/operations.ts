import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Phase, SnapshotSchema, SnapshotStatus } from "@open-vcluster/api";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Provider, ProviderResult } from "../provider/index.js";
import type { Store, StoreTx } from "../store/index.js";
import { type PendingOperation, pendingOperation, setPendingOperation } from "./annotations.js";
import { markEndpointSimulated } from "./conditions.js";
import {
  beginOperation,
  completeFailed,
  completeRunning,
  completeSuspended,
  editable,
  recordLastSnapshot,
} from "./lifecycle.js";
import { ProvisioningSlots } from "./provisioning-slots.js";
import { encodeSnapshotContent } from "./snapshot-content.js";

interface Running {
  operationId: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs the provider work of each operation in the background and commits its outcome. The
 * outcome is committed only if the vcluster still carries the operation's id, so a forced
 * delete that took over wins. Work interrupted by shutdown leaves the record in its
 * transitional phase, and `resumeInterrupted` carries it on after a restart.
 */
export class OperationRunner {
  private readonly running = new Map<string, Running>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  private readonly slots: ProvisioningSlots;

  constructor(
    private readonly store: Store,
    private readonly provider: Provider,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Creates that may run at once; more wait in PENDING. 0 = unlimited. */
    maxConcurrentCreates = 0,
  ) {
    this.slots = new ProvisioningSlots(maxConcurrentCreates);
  }

  /** Whether a create started now runs at once (else its vcluster should start PENDING). */
  hasProvisioningCapacity(): boolean {
    return this.slots.available();
  }

  /** Starts (or restarts after a crash) the background work of `op` on vcluster `id`. */
  start(vclusterId: string, op: PendingOperation): void {
    if (this.stopped) return;
    this.running.get(vclusterId)?.controller.abort(new Error(`superseded by ${op.kind} ${op.id}`));
    const controller = new AbortController();
    const entry: Running = { operationId: op.id, controller, done: Promise.resolve() };
    entry.done = this.drive(vclusterId, op, controller.signal)
      .catch((error: unknown) => {
        if (!controller.signal.aborted)
          this.logger.error({ err: error, vclusterId, operation: op.id }, "operation crashed");
      })
      .finally(() => {
        if (this.running.get(vclusterId) === entry) this.running.delete(vclusterId);
        if (this.running.size === 0) this.flushIdle();
      });
    this.running.set(vclusterId, entry);
  }

  /** Stops the work on a vcluster without committing anything (forced delete takes over). */
  abort(vclusterId: string): void {
    this.running.get(vclusterId)?.controller.abort(new Error("aborted"));
  }

  /** Resolves once no background work runs (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get size(): number {
    return this.running.size;
  }

  /** Aborts all work; records stay in their transitional phases for the next start. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort(new Error("server shutting down"));
    await Promise.all(all.map((r) => r.done));
  }

  /** Picks up every operation a previous process left unfinished. */
  resumeInterrupted(): number {
    let resumed = 0;
    let after: Parameters<StoreTx["listVClusters"]>[2];
    for (;;) {
      const page = this.store.listVClusters({}, "name", after, 500);
      for (const vcluster of page.items) {
        const op = pendingOperation(vcluster);
        if (op) {
          this.start(vcluster.id, op);
          resumed += 1;
        }
      }
      const last = page.items.at(-1);
      if (!page.hasMore || !last) break;
      after = { namespace: last.namespace, name: last.name, createTimeMs: 0, id: last.id };
    }
    return resumed;
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async drive(vclusterId: string, first: PendingOperation, signal: AbortSignal): Promise<void> {
    let op: PendingOperation | undefined = first;
    while (op && !signal.aborted) {
      // Taken synchronously when free, so the create handler's capacity check stays true.
      const provisioning = op.kind === "create";
      if (provisioning) {
        const waiting = this.slots.acquire(signal);
        if (
          waiting &&
          !(await waiting.then(
            () => true,
            () => false,
          ))
        )
          return;
      }
      try {
        if (provisioning) this.leavePending(vclusterId, op);
        op = await this.step(vclusterId, op, signal);
      } finally {
        if (provisioning) this.slots.release();
      }
    }
  }

  /** A create that waited for capacity starts for real: PENDING → CREATING. */
  private leavePending(vclusterId: string, op: PendingOperation): void {
    this.store.transaction((tx) => {
      const stored = tx.getVClusterById(vclusterId);
      if (!stored || pendingOperation(stored)?.id !== op.id || stored.status?.phase !== Phase.PENDING) return;
      const vcluster = editable(stored);
      beginOperation(vcluster, op, this.clock.now());
      tx.putVCluster(vcluster);
    });
  }

  /** Runs one provider step and commits it; returns the follow-up step, if any. */
  private async step(
    vclusterId: string,
    op: PendingOperation,
    signal: AbortSignal,
  ): Promise<PendingOperation | undefined> {
    const current = this.store.getVClusterById(vclusterId);
    if (!current || pendingOperation(current)?.id !== op.id || pendingOperation(current)?.kind !== op.kind) {
      return undefined;
    }
    let result: ProviderResult | undefined;
    let failure: string | undefined;
    const content = op.kind === "restore" && op.snapshotId ? this.store.getSnapshotContent(op.snapshotId) : undefined;
    try {
      result = await this.provider.run({
        kind: op.kind,
        vcluster: current,
        signal,
        gracePeriodSeconds: op.gracePeriodSeconds ?? 0,
        drainWorkloads: op.drainWorkloads ?? false,
        drainTimeoutSeconds: op.drainTimeoutSeconds ?? 0,
        includeWorkloads: op.includeWorkloads ?? false,
        deleteSnapshots: op.deleteSnapshots ?? false,
        ...(op.snapshotId ? { snapshotId: op.snapshotId } : {}),
        ...(op.snapshotId && content ? { snapshot: { id: op.snapshotId, content } } : {}),
      });
    } catch (error) {
      if (signal.aborted) return undefined;
      failure = error instanceof Error ? error.message : String(error);
    }
    return this.store.transaction((tx) => this.commit(tx, vclusterId, op, result, failure));
  }

  /** Commits one step's outcome; returns the follow-up step (suspend after its snapshot), if any. */
  private commit(
    tx: StoreTx,
    vclusterId: string,
    op: PendingOperation,
    result: ProviderResult | undefined,
    failure: string | undefined,
  ): PendingOperation | undefined {
    const stored = tx.getVClusterById(vclusterId);
    if (!stored || pendingOperation(stored)?.id !== op.id) return undefined;
    const now = this.clock.now();
    const vcluster = editable(stored);
    if (this.provider.endpointsSimulated && vcluster.status) markEndpointSimulated(vcluster.status, now);
    if (op.kind === "snapshot" && op.snapshotId) this.finishSnapshot(tx, vcluster, op.snapshotId, result, failure, now);
    if (op.kind === "snapshot" && (failure !== undefined || !result)) {
      // Capturing the backing store failed, but the control plane never stopped serving:
      // the snapshot is FAILED and the vcluster goes back to RUNNING (a suspend that was to
      // follow the snapshot is abandoned), saying why in its status.
      completeRunning(vcluster, op.kind, {}, now);
      if (vcluster.status) {
        vcluster.status.reason = "SnapshotFailed";
        const abandoned = op.thenSuspend ? ", so the vcluster was not suspended" : "";
        vcluster.status.message = `snapshot failed${abandoned}: ${failure ?? "no result"}`;
      }
      tx.putVCluster(vcluster);
      this.logger.warn(
        { vcluster: `${vcluster.namespace}/${vcluster.name}`, operation: op.id, failure },
        "snapshot failed",
      );
      return undefined;
    }
    if (failure !== undefined || !result) {
      completeFailed(vcluster, op.kind, failure ?? "no result", now);
      tx.putVCluster(vcluster);
      this.logger.warn(
        { vcluster: `${vcluster.namespace}/${vcluster.name}`, operation: op.id, kind: op.kind, failure },
        "operation failed",
      );
      return undefined;
    }
    if (op.kind === "delete") {
      if (op.deleteSnapshots) this.deleteSnapshotsOf(tx, vcluster.id);
      tx.deleteVCluster(vcluster.id);
      return undefined;
    }
    if (op.kind === "suspend") {
      completeSuspended(vcluster, result, now);
      tx.putVCluster(vcluster);
      return undefined;
    }
    if (op.kind === "snapshot" && op.thenSuspend) {
      const next: PendingOperation = {
        kind: "suspend",
        id: op.id,
        drainWorkloads: op.drainWorkloads ?? false,
        drainTimeoutSeconds: op.drainTimeoutSeconds ?? 0,
      };
      // Leaves SNAPSHOTTING for the suspend step, which keeps the vcluster busy until SUSPENDED.
      if (vcluster.status) vcluster.status.phase = Phase.RUNNING;
      beginOperation(vcluster, next, now);
      tx.putVCluster(vcluster);
      return next;
    }
    completeRunning(vcluster, op.kind, result, now);
    tx.putVCluster(vcluster);
    setPendingOperation(vcluster, undefined);
    return undefined;
  }

  private finishSnapshot(
    tx: StoreTx,
    vcluster: ReturnType<typeof editable>,
    snapshotId: string,
    result: ProviderResult | undefined,
    failure: string | undefined,
    now: Date,
  ): void {
    const stored = tx.getSnapshot(snapshotId);
    // A forced DeleteSnapshot may have removed it while it was being taken.
    if (!stored) return;
    const snapshot = clone(SnapshotSchema, stored);
    if (failure !== undefined || !result) {
      snapshot.status = SnapshotStatus.FAILED;
      tx.putSnapshot(snapshot);
    } else {
      const content = encodeSnapshotContent(vcluster, result.backingStore ?? {}, now);
      snapshot.status = SnapshotStatus.READY;
      snapshot.sizeBytes = BigInt(content.byteLength);
      tx.putSnapshot(snapshot, content);
    }
    recordLastSnapshot(vcluster, snapshot);
    vcluster.updateTime = timestampFromDate(now);
  }

  private deleteSnapshotsOf(tx: StoreTx, vclusterId: string): void {
    for (;;) {
      const page = tx.listSnapshots({ vclusterId }, undefined, 500);
      for (const s of page.items) tx.deleteSnapshot(s.id);
      if (!page.hasMore) return;
    }
  }
}
