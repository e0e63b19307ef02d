import type { HandlerContext } from "@connectrpc/connect";
import { Annotations, type VCluster } from "@open-vcluster/api";
import type { StoreTx } from "../store/index.js";
import type { PendingOperation } from "./annotations.js";
import { resourceVersionOf } from "./annotations.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { beginOperation, editable } from "./lifecycle.js";
import { findVisibleVCluster, retryOnConflict } from "./shared.js";

/** What a mutation's edit decided. */
export interface MutationStep<T> {
  /** Background work to start; the vcluster enters its in-progress phase and is leased to this replica. */
  operation?: PendingOperation;
  /** Write the edited vcluster even without an operation (e.g. a labels-only update). */
  write?: boolean;
  extra?: T;
}

export interface MutationInput {
  tx: StoreTx;
  /** An editable copy of the stored vcluster. */
  vcluster: VCluster;
  /** The operation still running on it, if any (lifecycle checks refuse most actions then). */
  running: PendingOperation | undefined;
  now: Date;
}

/**
 * The read-check-write every mutation of an existing vcluster shares: find it (tenancy-scoped),
 * let `edit` check the lifecycle and change the copy, then write it back compare-and-set on the
 * version read, with its operation record, in one transaction; start the work after commit.
 * A concurrent writer that got there first makes the write fail; the whole step then runs
 * again on the new state, where the lifecycle check sees the winner (FAILED_PRECONDITION) —
 * of two concurrent mutations of one vcluster, never both win.
 */
export async function mutateVCluster<T>(
  deps: ServiceDeps,
  ctx: HandlerContext,
  ref: { name: string; namespace: string },
  edit: (input: MutationInput) => Promise<MutationStep<T>> | MutationStep<T>,
): Promise<{ vcluster: VCluster; operationId: string; extra: T | undefined }> {
  const principal = principalOf(ctx);
  const result = await retryOnConflict(() =>
    deps.store.transaction(async (tx) => {
      const current = await findVisibleVCluster(tx, principal, ref);
      const running = (await tx.getOperation(current.id))?.operation as PendingOperation | undefined;
      const now = deps.clock.now();
      const vcluster = editable(current);
      const step = await edit({ tx, vcluster, running, now });
      if (step.operation) beginOperation(vcluster, step.operation, now);
      if (!step.operation && !step.write) return { stored: current, step };
      const stored = await tx.putVCluster(vcluster, resourceVersionOf(current));
      if (step.operation) await tx.putOperation(stored.id, { ...step.operation }, deps.operations.lease());
      return { stored, step };
    }),
  );
  const operation = result.step.operation;
  if (operation) deps.operations.start(result.stored.id, operation);
  return {
    vcluster: result.stored,
    operationId: operation?.id ?? result.stored.annotations[Annotations.operationId] ?? "",
    extra: result.step.extra,
  };
}
