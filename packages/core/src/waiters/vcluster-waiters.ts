import type { Client } from "@connectrpc/connect";
import { Phase, type VCluster, type VClusterService, WatchEventType } from "@open-vcluster/api";
import { isNotFound, isResourceVersionExpired } from "../errors/guards.js";
import type { Clock, Random } from "../time/clock.js";
import { resourceVersionOf } from "../watch/resource-version.js";
import { VClusterWatch, type WatchOptions } from "../watch/vcluster-watch.js";
import { WaitFailedError } from "./wait-errors.js";
import { type WaitOptions, WaitScope } from "./wait-scope.js";

export interface VClusterRef {
  name: string;
  /** Empty means "default". */
  namespace?: string;
}

export interface WaiterContext {
  client: Client<typeof VClusterService>;
  clock: Clock;
  random: Random;
  /** Reconnect and liveness settings of the watch that drives the wait. */
  watch?: Pick<WatchOptions, "backoff" | "heartbeatTimeoutMs" | "headers">;
}

type Verdict = "done" | "pending" | { reason: string; message: string };

interface Goal {
  description: string;
  check(vcluster: VCluster): Verdict;
  /** Whether deletion (NotFound, DELETED event) is the goal rather than a failure. */
  deletionIsGoal: boolean;
}

function failedOnError(vcluster: VCluster): Verdict | undefined {
  if (vcluster.status?.phase !== Phase.ERROR) return undefined;
  return {
    reason: vcluster.status.reason || "Error",
    message: vcluster.status.message || "the vcluster is in phase ERROR",
  };
}

function reachPhase(target: Phase): (vcluster: VCluster) => Verdict {
  return (vcluster) => {
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    if (phase === target) return "done";
    const failure = failedOnError(vcluster);
    if (failure) return failure;
    if (phase === Phase.DELETING) return { reason: "Deleting", message: "the vcluster is being deleted" };
    return "pending";
  };
}

/** Resolves with the vcluster once it is RUNNING; fails at once on phase ERROR. */
export function waitUntilRunning(ctx: WaiterContext, ref: VClusterRef, options: WaitOptions<VCluster> = {}) {
  return waitFor(
    ctx,
    ref,
    { description: "phase RUNNING", check: reachPhase(Phase.RUNNING), deletionIsGoal: false },
    options,
  );
}

/** Resolves with the vcluster once it is SUSPENDED; fails at once on phase ERROR. */
export function waitUntilSuspended(ctx: WaiterContext, ref: VClusterRef, options: WaitOptions<VCluster> = {}) {
  return waitFor(
    ctx,
    ref,
    { description: "phase SUSPENDED", check: reachPhase(Phase.SUSPENDED), deletionIsGoal: false },
    options,
  );
}

/** Resolves once the vcluster no longer exists; fails at once on phase ERROR (a failed deletion). */
export async function waitUntilDeleted(
  ctx: WaiterContext,
  ref: VClusterRef,
  options: WaitOptions<VCluster> = {},
): Promise<void> {
  await waitFor(
    ctx,
    ref,
    { description: "deletion", check: (v) => failedOnError(v) ?? "pending", deletionIsGoal: true },
    options,
  );
}

/**
 * Reads the current state once, then follows the watch stream from that state's version, so the
 * wait ends as soon as the server reports the change, with no polling delay.
 */
async function waitFor(
  ctx: WaiterContext,
  ref: VClusterRef,
  goal: Goal,
  options: WaitOptions<VCluster>,
): Promise<VCluster | undefined> {
  const namespace = ref.namespace || "default";
  const target = `vcluster ${namespace}/${ref.name} to reach ${goal.description}`;
  const scope = new WaitScope<VCluster>(target, options, ctx.clock);
  const settle = (vcluster: VCluster): VCluster | undefined => {
    scope.observe(vcluster);
    const verdict = goal.check(vcluster);
    if (verdict === "done") return vcluster;
    if (verdict !== "pending") throw new WaitFailedError(target, verdict.reason, verdict.message, vcluster);
    return undefined;
  };
  try {
    for (;;) {
      let current: VCluster | undefined;
      try {
        current = (await ctx.client.getVCluster({ name: ref.name, namespace }, { signal: scope.signal })).vcluster;
      } catch (error) {
        if (scope.signal.aborted) throw scope.endedError();
        if (isNotFound(error) && goal.deletionIsGoal) return undefined;
        throw error;
      }
      if (!current) throw new Error(`GetVCluster returned no vcluster for ${namespace}/${ref.name}`);
      const reached = settle(current);
      if (reached) return reached;
      const watch = new VClusterWatch(
        ctx.client,
        { name: ref.name, namespace },
        {
          ...ctx.watch,
          resourceVersion: resourceVersionOf(current),
          signal: scope.signal,
          clock: ctx.clock,
          random: ctx.random,
        },
      );
      try {
        for await (const event of watch) {
          if (event.vcluster.id !== current.id) continue;
          if (event.type === WatchEventType.DELETED) {
            scope.observe(event.vcluster);
            if (goal.deletionIsGoal) return event.vcluster;
            throw new WaitFailedError(target, "Deleted", "the vcluster was deleted", event.vcluster);
          }
          const done = settle(event.vcluster);
          if (done) return done;
        }
      } catch (error) {
        if (scope.signal.aborted) throw scope.endedError();
        // The watch fell behind the server's history: read the state again and carry on.
        if (isResourceVersionExpired(error)) continue;
        throw error;
      }
    }
  } finally {
    scope.dispose();
  }
}
