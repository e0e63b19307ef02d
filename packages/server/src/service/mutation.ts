import type { HandlerContext } from "@connectrpc/connect";
import type { VCluster } from "@open-vcluster/api";
import type { StoreTx } from "../store/index.js";
import type { PendingOperation } from "./annotations.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { editable } from "./lifecycle.js";
import { findVisibleVCluster } from "./lookup.js";

export interface MutationStep<T> {
  /** Background work to start after commit, if any. */
  operation?: PendingOperation;
  /** The vcluster to store (an editable copy the step changed); omitted = nothing to write. */
  vcluster?: VCluster;
  extra?: T;
}

/**
 * The read-check-write skeleton every mutation shares: find the vcluster (tenancy-scoped), let
 * `step` check the phase and edit a copy, store it in the same transaction, then start the
 * background work. Because the store is synchronous and the whole step runs in one
 * transaction, two concurrent mutations never interleave: the second one sees the first
 * one's phase and fails with FAILED_PRECONDITION.
 */
export function mutateVCluster<T>(
  deps: ServiceDeps,
  ctx: HandlerContext,
  ref: { name: string; namespace: string },
  step: (tx: StoreTx, vcluster: VCluster, now: Date) => MutationStep<T>,
): { vcluster: VCluster; operationId: string; extra: T | undefined } {
  const principal = principalOf(ctx);
  const result = deps.store.transaction((tx) => {
    const current = findVisibleVCluster(tx, principal, ref);
    const outcome = step(tx, editable(current), deps.clock.now());
    const stored = outcome.vcluster ? tx.putVCluster(outcome.vcluster) : current;
    return { stored, outcome };
  });
  const operation = result.outcome.operation;
  if (operation) deps.operations.start(result.stored.id, operation);
  return {
    vcluster: result.stored,
    operationId: operation?.id ?? result.stored.annotations["vcluster.open-vcluster.io/operation-id"] ?? "",
    extra: result.outcome.extra,
  };
}
