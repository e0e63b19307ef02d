import type { Client } from "@connectrpc/connect";
import { type Snapshot, type SnapshotService, SnapshotStatus } from "@open-vcluster/api";
import { Backoff } from "../time/backoff.js";
import { type Clock, type Random, sleep } from "../time/clock.js";
import { WaitFailedError } from "./wait-errors.js";
import { type WaitOptions, WaitScope } from "./wait-scope.js";

export interface SnapshotWaitOptions extends WaitOptions<Snapshot> {
  /** Polling backoff (snapshots have no watch). Default 250 ms → 5 s. */
  pollBackoff?: { initialMs?: number; maxMs?: number };
}

export interface SnapshotWaiterContext {
  client: Client<typeof SnapshotService>;
  clock: Clock;
  random: Random;
}

export const snapshotPollDefaults = { initialMs: 250, maxMs: 5000 } as const;

/**
 * Polls GetSnapshot until the snapshot is READY; fails at once when it is FAILED or gone.
 * Polling delays grow (with jitter) so a long snapshot does not mean a steady request stream.
 */
export async function waitUntilSnapshotReady(
  ctx: SnapshotWaiterContext,
  snapshotId: string,
  options: SnapshotWaitOptions = {},
): Promise<Snapshot> {
  const target = `snapshot ${snapshotId} to become READY`;
  const scope = new WaitScope<Snapshot>(target, options, ctx.clock);
  const initialMs = options.pollBackoff?.initialMs ?? snapshotPollDefaults.initialMs;
  const maxMs = options.pollBackoff?.maxMs ?? snapshotPollDefaults.maxMs;
  // Never poll sooner than half the step, so full jitter cannot produce a burst of instant polls.
  const backoff = new Backoff({ initialMs: initialMs / 2, maxMs: maxMs / 2 }, ctx.random);
  const floor = new Backoff({ initialMs: initialMs / 2, maxMs: maxMs / 2 }, () => 1);
  try {
    for (;;) {
      let snapshot: Snapshot | undefined;
      try {
        snapshot = (await ctx.client.getSnapshot({ id: snapshotId }, { signal: scope.signal })).snapshot;
      } catch (error) {
        if (scope.signal.aborted) throw scope.endedError();
        throw error;
      }
      if (!snapshot) throw new Error(`GetSnapshot returned no snapshot for ${snapshotId}`);
      scope.observe(snapshot);
      if (snapshot.status === SnapshotStatus.READY) return snapshot;
      if (snapshot.status === SnapshotStatus.FAILED || snapshot.status === SnapshotStatus.DELETING) {
        const status = SnapshotStatus[snapshot.status];
        throw new WaitFailedError(target, status, `the snapshot is ${status}`, snapshot);
      }
      try {
        await sleep(ctx.clock, floor.next() + backoff.next(), scope.signal);
      } catch {
        throw scope.endedError();
      }
    }
  } finally {
    scope.dispose();
  }
}
