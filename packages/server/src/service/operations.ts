import { randomUUID } from "node:crypto";
import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Phase, SnapshotSchema, SnapshotStatus } from "@open-vcluster/api";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Provider, ProviderResult } from "../provider/index.js";
import { type SnapshotCursor, type Store, type StoreReader, type StoreTx, snapshotCursor } from "../store/index.js";
import { type PendingOperation, resourceVersionOf } from "./annotations.js";
import { markEndpointSimulated } from "./conditions.js";
import {
  beginOperation,
  completeFailed,
  completeRunning,
  completeSuspended,
  editable,
  recordLastSnapshot,
} from "./lifecycle.js";
import { retryOnConflict } from "./shared.js";
import { encodeSnapshotContent } from "./snapshot-content.js";

interface Running {
  operationId: string;
  controller: AbortController;
  done: Promise<void>;
}

export interface OperationRunnerOptions {
  /** Creates that may run at once over all replicas; more wait in PENDING. 0 = unlimited. */
  maxConcurrentCreates?: number;
  /** How long a replica's claim on an operation lasts without renewal (default 15 s). */
  leaseMs?: number;
  /** This replica's name in leases (default a random id). */
  owner?: string;
}

export const DEFAULT_LEASE_MS = 15_000;

/**
 * Drives lifecycle operations: runs the provider work of each in the background and commits
 * its outcome. Operations are records in the store, each leased to the replica that drives it;
 * a replica renews its leases while it works and stops work whose lease it lost. Any replica
 * claims operations nobody drives (a dead replica's, once their lease expired) and promotes
 * waiting creates into free provisioning slots, so exactly one replica drives each operation
 * and capacity counts over all of them. The outcome is committed only if the operation record
 * is still this one and leased here, so a forced delete that took over wins.
 */
export class OperationRunner {
  private readonly running = new Map<string, Running>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private started = false;
  private timers: NodeJS.Timeout[] = [];
  private claiming: Promise<void> | undefined;
  private claimAgain = false;
  readonly owner: string;
  readonly leaseMs: number;
  private readonly maxConcurrentCreates: number;

  constructor(
    private readonly store: Store,
    private readonly provider: Provider,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: OperationRunnerOptions = {},
  ) {
    this.owner = options.owner ?? randomUUID();
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxConcurrentCreates = options.maxConcurrentCreates ?? 0;
  }

  /** The lease a handler gives an operation it starts on this replica. */
  lease(): { owner: string; leaseMs: number } {
    return { owner: this.owner, leaseMs: this.leaseMs };
  }

  /**
   * Whether a create must wait in PENDING: every provisioning slot is taken, or others wait
   * already (first come, first served). Counted in the caller's transaction over all replicas.
   */
  async mustWaitForCapacity(tx: StoreTx): Promise<boolean> {
    if (this.maxConcurrentCreates === 0) return false;
    const { active, waiting } = await tx.countActiveCreates();
    return active >= this.maxConcurrentCreates || waiting > 0;
  }

  /**
   * Starts the background duties: claiming unowned work now (all of it when this process
   * owns the store: whatever a previous process left) and periodically, and renewing leases.
   */
  startBackground(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const renew = setInterval(() => this.renewLeases(), Math.max(50, Math.floor(this.leaseMs / 3)));
    const claim = setInterval(() => this.claimSoon(), Math.max(50, Math.floor(this.leaseMs / 2)));
    renew.unref();
    claim.unref();
    this.timers.push(renew, claim);
    this.claimSoon(!this.store.traits.shared);
  }

  /** Claims unowned work and free provisioning slots now (coalesced when already under way). */
  claimSoon(takeOverLive = false): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claim(takeOverLive)
      .catch((error: unknown) => {
        if (this.store.healthy() && !this.stopped) this.logger.error({ err: error }, "claiming operations failed");
      })
      .finally(() => {
        this.claiming = undefined;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.claimSoon();
        }
      });
  }

  /** Resolves once claims in progress are done (tests). */
  async settled(): Promise<void> {
    while (this.claiming) await this.claiming;
  }

  private async claim(takeOverLive: boolean): Promise<void> {
    for (;;) {
      const claimed = await this.store.transaction((tx) =>
        tx.claimOperations({
          owner: this.owner,
          leaseMs: this.leaseMs,
          limit: 100,
          takeOverLive,
          maxActiveCreates: this.maxConcurrentCreates,
        }),
      );
      for (const record of claimed) {
        if (this.running.get(record.vclusterId)?.operationId === record.operation.id) continue;
        this.logger.debug({ vclusterId: record.vclusterId, operation: record.operation.id }, "operation claimed");
        this.start(record.vclusterId, record.operation as unknown as PendingOperation);
      }
      if (claimed.length < 100 || this.stopped) return;
    }
  }

  private renewLeases(): void {
    if (this.stopped || this.running.size === 0) return;
    const ids = [...this.running.keys()];
    this.store
      .transaction((tx) => tx.renewLeases(this.owner, ids, this.leaseMs))
      .then((held) => {
        const kept = new Set(held);
        for (const id of ids) {
          if (!kept.has(id)) this.running.get(id)?.controller.abort(new Error("lease lost to another replica"));
        }
      })
      .catch((error: unknown) => {
        if (this.store.healthy() && !this.stopped) this.logger.warn({ err: error }, "renewing leases failed");
      });
  }

  /** Starts the background work of `op` on vcluster `id`; the caller committed its lease here. */
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
        // A finished create frees a provisioning slot; a failed commit leaves work to reclaim.
        if (!this.stopped) this.claimSoon();
        if (this.running.size === 0) this.flushIdle();
      });
    this.running.set(vclusterId, entry);
  }

  /** Stops the work on a vcluster without committing anything. */
  abort(vclusterId: string): void {
    this.running.get(vclusterId)?.controller.abort(new Error("aborted"));
  }

  /** Resolves once no background work runs here (tests, graceful shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      await this.settled();
      if (this.running.size === 0) {
        if (!this.claiming) return;
        continue;
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  get size(): number {
    return this.running.size;
  }

  /** Aborts all work; records keep their in-progress phases for whoever comes next, their leases released. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    const all = [...this.running.entries()];
    for (const [, r] of all) r.controller.abort(new Error("server shutting down"));
    await Promise.all(all.map(([, r]) => r.done));
    await this.claiming?.catch(() => undefined);
    // Let go of the leases at once, so another replica carries the work on without waiting.
    if (all.length > 0 && this.store.healthy()) {
      const ids = all.map(([id]) => id);
      await this.store.transaction((tx) => tx.renewLeases(this.owner, ids, 0)).catch(() => undefined);
    }
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async drive(vclusterId: string, first: PendingOperation, signal: AbortSignal): Promise<void> {
    let op: PendingOperation | undefined = first;
    while (op && !signal.aborted) {
      if (op.kind === "create") await this.leavePending(vclusterId, op);
      op = await this.step(vclusterId, op, signal);
    }
  }

  /** Whether the store still holds `op` for the vcluster, leased to this replica. */
  private async holds(tx: StoreReader, vclusterId: string, op: PendingOperation): Promise<boolean> {
    const record = await tx.getOperation(vclusterId);
    return (
      record !== undefined &&
      record.operation.id === op.id &&
      record.operation.kind === op.kind &&
      record.owner === this.owner &&
      !record.waiting
    );
  }

  /** A create that waited for capacity starts for real: PENDING → CREATING. */
  private async leavePending(vclusterId: string, op: PendingOperation): Promise<void> {
    await retryOnConflict(() =>
      this.store.transaction(async (tx) => {
        const stored = await tx.getVClusterById(vclusterId);
        if (!stored || stored.status?.phase !== Phase.PENDING || !(await this.holds(tx, vclusterId, op))) return;
        const vcluster = editable(stored);
        beginOperation(vcluster, op, this.clock.now());
        await tx.putVCluster(vcluster, resourceVersionOf(stored));
      }),
    );
  }

  /** Runs one provider step and commits it; returns the follow-up step, if any. */
  private async step(
    vclusterId: string,
    op: PendingOperation,
    signal: AbortSignal,
  ): Promise<PendingOperation | undefined> {
    const current = await this.store.getVClusterById(vclusterId);
    if (!current || !(await this.holds(this.store, vclusterId, op))) return undefined;
    let result: ProviderResult | undefined;
    let failure: string | undefined;
    const content =
      (op.kind === "restore" || op.kind === "create") && op.snapshotId
        ? await this.store.getSnapshotContent(op.snapshotId)
        : undefined;
    const snapshots = op.kind === "delete" && op.deleteSnapshots ? await this.readySnapshotsOf(vclusterId) : undefined;
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
        ...(snapshots ? { snapshots } : {}),
      });
    } catch (error) {
      if (signal.aborted) return undefined;
      failure = error instanceof Error ? error.message : String(error);
    }
    if (signal.aborted) return undefined;
    return retryOnConflict(() =>
      this.store.transaction(async (tx) => {
        // Renewing first locks the record: a replica claiming it now waits for this commit.
        const [held] = await tx.renewLeases(this.owner, [vclusterId], this.leaseMs);
        if (held === undefined || !(await this.holds(tx, vclusterId, op))) return undefined;
        return this.commit(tx, vclusterId, op, result, failure);
      }),
    );
  }

  /** Commits one step's outcome; returns the follow-up step (suspend after its snapshot), if any. */
  private async commit(
    tx: StoreTx,
    vclusterId: string,
    op: PendingOperation,
    result: ProviderResult | undefined,
    failure: string | undefined,
  ): Promise<PendingOperation | undefined> {
    const stored = await tx.getVClusterById(vclusterId);
    if (!stored) return undefined;
    const expected = resourceVersionOf(stored);
    const now = this.clock.now();
    const vcluster = editable(stored);
    if (this.provider.endpointsSimulated && vcluster.status) markEndpointSimulated(vcluster.status, now);
    const finish = async () => {
      await tx.putVCluster(vcluster, expected);
      await tx.deleteOperation(vclusterId, op.id);
    };
    if (op.kind === "snapshot" && op.snapshotId)
      await this.finishSnapshot(tx, vcluster, op.snapshotId, result, failure, now);
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
      await finish();
      this.logger.warn(
        { vcluster: `${vcluster.namespace}/${vcluster.name}`, operation: op.id, failure },
        "snapshot failed",
      );
      return undefined;
    }
    if (failure !== undefined || !result) {
      completeFailed(vcluster, op.kind, failure ?? "no result", now);
      await finish();
      this.logger.warn(
        { vcluster: `${vcluster.namespace}/${vcluster.name}`, operation: op.id, kind: op.kind, failure },
        "operation failed",
      );
      return undefined;
    }
    if (op.kind === "delete") {
      if (op.deleteSnapshots) await this.deleteSnapshotsOf(tx, vcluster.id);
      await tx.deleteVCluster(vcluster.id, expected);
      return undefined;
    }
    if (op.kind === "suspend") {
      completeSuspended(vcluster, result, now);
      await finish();
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
      await tx.putVCluster(vcluster, expected);
      await tx.putOperation(vclusterId, { ...next }, this.lease());
      return next;
    }
    completeRunning(vcluster, op.kind, result, now);
    await finish();
    return undefined;
  }

  private async finishSnapshot(
    tx: StoreTx,
    vcluster: ReturnType<typeof editable>,
    snapshotId: string,
    result: ProviderResult | undefined,
    failure: string | undefined,
    now: Date,
  ): Promise<void> {
    const stored = await tx.getSnapshot(snapshotId);
    // A forced DeleteSnapshot may have removed it while it was being taken.
    if (!stored) return;
    const snapshot = clone(SnapshotSchema, stored);
    if (failure !== undefined || !result) {
      snapshot.status = SnapshotStatus.FAILED;
      await tx.putSnapshot(snapshot);
    } else {
      const content = encodeSnapshotContent(vcluster, result.backingStore ?? {}, now);
      snapshot.status = SnapshotStatus.READY;
      snapshot.sizeBytes = BigInt(content.byteLength);
      if (result.storageUri) snapshot.storageUri = result.storageUri;
      await tx.putSnapshot(snapshot, content);
    }
    recordLastSnapshot(vcluster, snapshot);
    vcluster.updateTime = timestampFromDate(now);
  }

  /** The vcluster's READY snapshots and where they are stored (what a provider may delete). */
  private async readySnapshotsOf(vclusterId: string): Promise<{ id: string; storageUri: string }[]> {
    const found: { id: string; storageUri: string }[] = [];
    let cursor: SnapshotCursor | undefined;
    for (;;) {
      const page = await this.store.listSnapshots({ vclusterId }, cursor, 500);
      for (const s of page.items)
        if (s.status === SnapshotStatus.READY) found.push({ id: s.id, storageUri: s.storageUri });
      const last = page.items.at(-1);
      if (!page.hasMore || !last) return found;
      cursor = snapshotCursor(last);
    }
  }

  private async deleteSnapshotsOf(tx: StoreTx, vclusterId: string): Promise<void> {
    for (;;) {
      const page = await tx.listSnapshots({ vclusterId }, undefined, 500);
      for (const s of page.items) await tx.deleteSnapshot(s.id);
      if (!page.hasMore) return;
    }
  }
}
