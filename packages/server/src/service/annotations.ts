import { Annotations, type VCluster } from "@open-vcluster/api";
import type { OperationKind } from "../provider/index.js";

/** Server-internal annotation: the operation still running on this vcluster (JSON). */
export const PENDING_OPERATION = "vcluster.open-vcluster.io/pending-operation";

/** vcluster's own pause markers, mirrored so tooling that knows vcluster reads them unchanged. */
export const PAUSED = "loft.sh/paused";
export const PAUSED_REPLICAS = "loft.sh/paused-replicas";
export const PAUSED_DATE = "loft.sh/paused-date";

/** What a restarted server needs to carry an interrupted operation to its end. */
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

export function pendingOperation(vcluster: VCluster): PendingOperation | undefined {
  const raw = vcluster.annotations[PENDING_OPERATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as PendingOperation;
  } catch {
    return undefined;
  }
}

export function setPendingOperation(vcluster: VCluster, op: PendingOperation | undefined): void {
  if (op) {
    vcluster.annotations[PENDING_OPERATION] = JSON.stringify(op);
    vcluster.annotations[Annotations.operationId] = op.id;
  } else {
    delete vcluster.annotations[PENDING_OPERATION];
  }
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
