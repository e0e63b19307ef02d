import type { Client } from "@connectrpc/connect";
import { Phase, type VCluster, type VClusterService, WatchEventType } from "@open-vcluster/api";
import { isNotFound, isResourceVersionExpired } from "../errors/guards.js";
import type { Clock, Random } from "../time/clock.js";
import { compareResourceVersions, resourceVersionOf } from "../watch/resource-version.js";
import { VClusterWatch, type WatchOptions } from "../watch/vcluster-watch.js";
import { generationOf, isSettled } from "./settled.js";
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
  watch?: Pick<WatchOptions, "backoff" | "heartbeatTimeoutMs" | "headers" | "refreshCredentials">;
}

export interface VClusterWaitOptions extends WaitOptions<VCluster> {
  /**
   * The vcluster a mutation returned (Create, Update, Scale, Suspend, Resume, Restore): the wait
   * then counts only states at or after that response in which its operation has finished, and
   * the phase waiters fail as soon as that operation finished elsewhere (e.g. waiting for
   * RUNNING after a suspend ends SUSPENDED). Without it the wait still counts only settled
   * states (see `isSettled`), read after the call.
   */
  after?: VCluster;
}

/** What `waitFor` waits for: a condition's status, or any test of the vcluster. */
export type VClusterGoal =
  | {
      /** Condition type, e.g. "Ready", "ControlPlaneReady", "Suspended". */
      condition: string;
      /** Default "True". */
      status?: "True" | "False" | "Unknown";
    }
  | ((vcluster: VCluster) => boolean);

export interface WaitForOptions extends VClusterWaitOptions {
  /**
   * Whether only settled states count (default true): a state with an operation under way may
   * still show what the operation is about to change. Set false to also match transitional
   * states (e.g. "wait until it is SCALING").
   */
  settledOnly?: boolean;
  /** Says what is awaited in errors, e.g. "3 ready replicas". Default: derived from the goal. */
  description?: string;
}

type Verdict = "done" | "pending" | { reason: string; message: string };

interface Goal {
  description: string;
  /** `finished`: settled, and past the caller's operation when there is one. */
  check(vcluster: VCluster, finished: boolean): Verdict;
  /** Whether deletion (NotFound, DELETED event) is the goal rather than a failure. */
  deletionIsGoal: boolean;
}

function failedOnError(vcluster: VCluster): { reason: string; message: string } | undefined {
  if (vcluster.status?.phase !== Phase.ERROR) return undefined;
  return {
    reason: vcluster.status.reason || "Error",
    message: vcluster.status.message || "the vcluster is in phase ERROR",
  };
}

function phaseName(phase: Phase): string {
  return Phase[phase] ?? String(phase);
}

function reachPhase(target: Phase, anchored: boolean): Goal["check"] {
  return (vcluster, finished) => {
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    if (phase === target && finished) return "done";
    if (phase === Phase.DELETING) return { reason: "Deleting", message: "the vcluster is being deleted" };
    if (anchored && finished) {
      return {
        reason: "OperationFinished",
        message: `the operation finished with the vcluster ${phaseName(phase)}${vcluster.status?.message ? ` (${vcluster.status.message})` : ""}`,
      };
    }
    return "pending";
  };
}

/** Resolves with the vcluster once it is RUNNING with no operation under way; fails at once on ERROR. */
export function waitUntilRunning(ctx: WaiterContext, ref: VClusterRef, options: VClusterWaitOptions = {}) {
  return waitOn(
    ctx,
    ref,
    {
      description: "phase RUNNING",
      check: reachPhase(Phase.RUNNING, options.after !== undefined),
      deletionIsGoal: false,
    },
    options,
  ) as Promise<VCluster>;
}

/** Resolves with the vcluster once it is SUSPENDED; fails at once on phase ERROR. */
export function waitUntilSuspended(ctx: WaiterContext, ref: VClusterRef, options: VClusterWaitOptions = {}) {
  return waitOn(
    ctx,
    ref,
    {
      description: "phase SUSPENDED",
      check: reachPhase(Phase.SUSPENDED, options.after !== undefined),
      deletionIsGoal: false,
    },
    options,
  ) as Promise<VCluster>;
}

/** Resolves once the vcluster no longer exists; fails at once on phase ERROR (a failed deletion). */
export async function waitUntilDeleted(
  ctx: WaiterContext,
  ref: VClusterRef,
  options: VClusterWaitOptions = {},
): Promise<void> {
  await waitOn(ctx, ref, { description: "deletion", check: () => "pending", deletionIsGoal: true }, options);
}

/**
 * The general waiter: resolves with the first state that meets `goal` — a condition's status
 * (`{ condition: "Ready" }`) or a predicate. Driven by the watch; fails at once when the
 * vcluster is in phase ERROR, does not exist (NotFound) or is deleted; a timeout's error carries
 * the last state seen.
 */
export function waitForVCluster(
  ctx: WaiterContext,
  ref: VClusterRef,
  goal: VClusterGoal,
  options: WaitForOptions = {},
): Promise<VCluster> {
  const test =
    typeof goal === "function"
      ? goal
      : (v: VCluster) =>
          v.status?.conditions.find((c) => c.type === goal.condition)?.status === (goal.status ?? "True");
  const description =
    options.description ??
    (typeof goal === "function" ? "the awaited state" : `condition ${goal.condition}=${goal.status ?? "True"}`);
  const settledOnly = options.settledOnly ?? true;
  return waitOn(
    ctx,
    ref,
    {
      description,
      check: (vcluster, finished) => ((finished || !settledOnly) && test(vcluster) ? "done" : "pending"),
      deletionIsGoal: false,
    },
    options,
  ) as Promise<VCluster>;
}

/**
 * Reads the current state once, then follows the watch stream from that state's version, so the
 * wait ends as soon as the server reports the change, with no polling delay. States older than
 * the caller's anchor (`after`) are skipped: they precede the operation the caller started.
 */
async function waitOn(
  ctx: WaiterContext,
  ref: VClusterRef,
  goal: Goal,
  options: VClusterWaitOptions,
): Promise<VCluster | undefined> {
  const namespace = ref.namespace || "default";
  const target = `vcluster ${namespace}/${ref.name} to reach ${goal.description}`;
  const scope = new WaitScope<VCluster>(target, options, ctx.clock);
  const anchor = options.after;
  const anchorVersion = anchor ? resourceVersionOf(anchor) : "";
  const anchorGeneration = anchor ? generationOf(anchor) : 0n;
  const settle = (vcluster: VCluster): VCluster | undefined => {
    scope.observe(vcluster);
    if (anchor && compareResourceVersions(resourceVersionOf(vcluster), anchorVersion) < 0) return undefined;
    const failure = failedOnError(vcluster);
    if (failure) throw new WaitFailedError(target, failure.reason, failure.message, vcluster);
    const finished = isSettled(vcluster) && (vcluster.status?.observedGeneration ?? 0n) >= anchorGeneration;
    const verdict = goal.check(vcluster, finished);
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
