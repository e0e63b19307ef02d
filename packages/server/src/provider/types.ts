import type { ResourceUsage, VCluster } from "@open-vcluster/api";

export type OperationKind = "create" | "update" | "scale" | "suspend" | "resume" | "snapshot" | "restore" | "delete";

export const OPERATION_KINDS: readonly OperationKind[] = [
  "create",
  "update",
  "scale",
  "suspend",
  "resume",
  "snapshot",
  "restore",
  "delete",
];

/** One unit of lifecycle work on one vcluster. The service owns state; the provider only acts. */
export interface ProviderOperation {
  kind: OperationKind;
  /** The vcluster as stored when the operation started (spec is the desired state). */
  vcluster: VCluster;
  /** Aborted on server shutdown or when a forced delete takes over. */
  signal: AbortSignal;
  /** delete: seconds to let workloads stop (0 when forced). */
  gracePeriodSeconds?: number;
  /** suspend: evict workloads first, bounded by drainTimeoutSeconds. */
  drainWorkloads?: boolean;
  drainTimeoutSeconds?: number;
  /** snapshot: also capture workload state. */
  includeWorkloads?: boolean;
}

/** What the provider observed after the work; the service folds it into status. */
export interface ProviderResult {
  /** Usage right after the operation (zero while suspended). */
  usage?: Omit<ResourceUsage, "$typeName" | "$unknown">;
  /** snapshot: the captured backing-store state, embedded into the snapshot content. */
  backingStore?: Record<string, unknown>;
}

/**
 * Does the lifecycle work (Helm install/upgrade/uninstall, scaling, backing-store capture).
 * The simulated provider sleeps and reports usage; a Kubernetes provider would call Helm and
 * the Kubernetes API behind the same interface.
 */
export interface Provider {
  readonly name: string;
  /** True when nothing serves the vclusters' API server endpoints (the simulated provider). */
  readonly endpointsSimulated?: boolean;
  run(op: ProviderOperation): Promise<ProviderResult>;
}

/** A failure of the underlying infrastructure; the service moves the vcluster to ERROR. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: OperationKind,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
