import { Annotations, type VCluster } from "@open-vcluster/api";
import type { OperationKind } from "../provider/index.js";

/** vcluster's own pause markers, mirrored so tooling that knows vcluster reads them unchanged. */
export const PAUSED = "loft.sh/paused";
export const PAUSED_REPLICAS = "loft.sh/paused-replicas";
export const PAUSED_DATE = "loft.sh/paused-date";

/**
 * What a replica needs to carry an operation to its end. Server-internal: it is kept in the
 * store's operation records, never in the vcluster's public annotations.
 */
export interface PendingOperation {
  kind: OperationKind;
  id: string;
  snapshotId?: string;
  deleteSnapshots?: boolean;
  gracePeriodSeconds?: number;
  drainWorkloads?: boolean;
  drainTimeoutSeconds?: number;
  includeWorkloads?: boolean;
  /** suspend with create_snapshot: the snapshot is taken before the control plane stops. */
  thenSuspend?: boolean;
}

/** Public trace of the operation: its id in annotations[Annotations.operationId]. */
export function recordOperationId(vcluster: VCluster, op: PendingOperation): void {
  vcluster.annotations[Annotations.operationId] = op.id;
}

export function generationOf(vcluster: VCluster): bigint {
  const raw = vcluster.annotations[Annotations.generation];
  return raw ? BigInt(raw) : 0n;
}

export function bumpGeneration(vcluster: VCluster): void {
  vcluster.annotations[Annotations.generation] = String(generationOf(vcluster) + 1n);
}

export function resourceVersionOf(vcluster: VCluster): number {
  return Number(vcluster.annotations[Annotations.resourceVersion] ?? "0");
}
