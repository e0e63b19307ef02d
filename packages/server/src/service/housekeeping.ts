import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Store } from "../store/index.js";
import { IDEMPOTENCY_RETENTION_MS } from "./idempotency.js";
import { forgetLastSnapshot, retryOnConflict } from "./shared.js";

export interface SweepResult {
  snapshots: number;
  requestIds: number;
}

/**
 * Removes expired snapshots (retention_hours) and idempotency records older than their
 * retention, in one short transaction. With `onlyIfDue`, it runs only if no replica sharing
 * the store has swept within `onlyIfDue` ms (so N replicas sweep once, not N times).
 */
export function sweepExpired(
  store: Store,
  clock: Clock,
  logger: Logger,
  onlyIfDue?: number,
): Promise<SweepResult | undefined> {
  const now = clock.now();
  return retryOnConflict(() =>
    store.transaction(async (tx) => {
      if (onlyIfDue !== undefined && !(await tx.claimHousekeeping(onlyIfDue))) return undefined;
      const expired = await tx.snapshotsExpiringBefore(now);
      for (const snapshot of expired) {
        await tx.deleteSnapshot(snapshot.id);
        await forgetLastSnapshot(tx, snapshot.vclusterId, snapshot.id);
      }
      const requestIds = await tx.deleteIdempotencyBefore(new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS));
      if (expired.length > 0) logger.info({ snapshots: expired.map((s) => s.id) }, "expired snapshots removed");
      return { snapshots: expired.length, requestIds };
    }),
  );
}

/**
 * Sweeps every `intervalMs` on the real timer (unref'd: it never keeps the process up). A
 * process that owns its store sweeps at start; replicas of a shared store take turns.
 */
export function startHousekeeping(store: Store, clock: Clock, logger: Logger, intervalMs = 60_000): () => void {
  let first = true;
  const run = () => {
    const onlyIfDue = first && !store.traits.shared ? undefined : Math.floor(intervalMs * 0.9);
    first = false;
    sweepExpired(store, clock, logger, onlyIfDue).catch((error: unknown) => {
      if (store.healthy()) logger.error({ err: error }, "housekeeping failed");
    });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
