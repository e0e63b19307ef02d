import { Code } from "@connectrpc/connect";
import { Phase, type VCluster } from "@open-vcluster/api";
import { apiError } from "../errors.js";
import { pendingOperation } from "./annotations.js";

export function phaseName(phase: Phase): string {
  return `PHASE_${Phase[phase] ?? "UNSPECIFIED"}`;
}

/** Phases in which work is under way; a vcluster in one of them accepts no other mutation. */
export const TRANSITIONAL_PHASES: ReadonlySet<Phase> = new Set([
  Phase.PENDING,
  Phase.CREATING,
  Phase.SCALING,
  Phase.UPDATING,
  Phase.RESTORING,
  Phase.SNAPSHOTTING,
  Phase.RESUMING,
  Phase.DELETING,
]);

export function currentPhase(vcluster: VCluster): Phase {
  return vcluster.status?.phase ?? Phase.UNSPECIFIED;
}

/**
 * Rejects a mutation that the lifecycle does not allow from the current phase, or while
 * another operation is still running (suspend runs without a phase of its own). The error
 * names the current phase in its message and in metadata["phase"].
 */
export function requirePhase(vcluster: VCluster, allowed: readonly Phase[], action: string): void {
  const phase = currentPhase(vcluster);
  const pending = pendingOperation(vcluster);
  if (allowed.includes(phase) && !pending) return;
  const allowedNames = allowed.map(phaseName).join(", ");
  const busy = pending ? ` (operation ${pending.kind} ${pending.id} in progress)` : "";
  throw apiError(
    Code.FailedPrecondition,
    "FAILED_PRECONDITION",
    `vcluster ${vcluster.namespace}/${vcluster.name} is ${phaseName(phase)}${busy}; cannot ${action} (allowed from ${allowedNames})`,
    {
      metadata: {
        phase: phaseName(phase),
        allowed_phases: allowedNames,
        ...(pending ? { pending_operation: pending.kind } : {}),
      },
    },
  );
}
