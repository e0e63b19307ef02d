import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Store } from "../store/index.js";
import { IDEMPOTENCY_RETENTION_MS } from "./idempotency.js";
import { forgetLastSnapshot } from "./snapshot-service.js";

/**
 * Removes expired snapshots (retention_hours) and idempotency records older than their
 * retention. Runs at startup and then periodically; each pass is one short transaction.
 */
export function sweepExpired(store: Store, clock: Clock, logger: Logger): { snapshots: number; requestIds: number } {
  const now = clock.now();
  return store.transaction((tx) => {
    const expired = tx.snapshotsExpiringBefore(now);
    for (const snapshot of expired) {
      tx.deleteSnapshot(snapshot.id);
      forgetLastSnapshot(tx, snapshot.vclusterId, snapshot.id);
    }
    const requestIds = tx.deleteIdempotencyBefore(new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS));
    if (expired.length > 0) logger.info({ snapshots: expired.map((s) => s.id) }, "expired snapshots removed");
    return { snapshots: expired.length, requestIds };
  });
}

/** Runs `sweepExpired` every `intervalMs` on the real timer (unref'd: it never keeps the process up). */
export function startHousekeeping(store: Store, clock: Clock, logger: Logger, intervalMs = 60_000): () => void {
  const run = () => {
    try {
      sweepExpired(store, clock, logger);
    } catch (error) {
      logger.error({ err: error }, "housekeeping failed");
    }
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
