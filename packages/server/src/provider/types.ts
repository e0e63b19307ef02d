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
  /**
   * restore, and create from a snapshot (RestoreVCluster with create_new): the snapshot being
   * restored and the content it captured.
   */
  snapshot?: { id: string; content: Uint8Array };
  /** snapshot: the id of the snapshot being taken (names the provider's own request). */
  snapshotId?: string;
  /** restore: whether the workloads captured with the snapshot are restored too. */
  restoreWorkloads?: boolean;
  /** delete: also delete the provider-side snapshot artefacts. */
  deleteSnapshots?: boolean;
  /** delete with deleteSnapshots: the vcluster's READY snapshots and where each is stored. */
  snapshots?: { id: string; storageUri: string }[];
  /** delete: skip waiting for anything (force). */
  force?: boolean;
}

/** What a preflight needs beyond the vcluster. */
export interface PreflightDetails {
  /** restore: whether workload state is to be restored too. */
  restoreWorkloads?: boolean;
  /** restore: into a new vcluster (which does not exist on the host yet). */
  createNew?: boolean;
  /** restore: the backing-store state the snapshot captured. */
  backingStore?: Record<string, unknown>;
}

/** The Helm release as the provider found it (from Helm itself, not from constants). */
export interface ProviderHelmRelease {
  chartVersion: string;
  appVersion: string;
  revision: number;
  status: string;
}

/** What the provider observed after the work; the service folds it into status. */
export interface ProviderResult {
  /** Usage right after the operation (zero while suspended). */
  usage?: Omit<ResourceUsage, "$typeName" | "$unknown">;
  /** snapshot: the captured backing-store state, embedded into the snapshot content. */
  backingStore?: Record<string, unknown>;
  /** snapshot: where the provider stored it (becomes the snapshot's storage_uri). */
  storageUri?: string;
  /** The release after the operation (create/update/scale/resume/restore). */
  helmRelease?: ProviderHelmRelease;
  /** The virtual API server's URL as the provider exposes it. */
  endpoint?: string;
  /** Control-plane replicas observed ready after the operation. */
  readyReplicas?: number;
}

/** The kubeconfig of a vcluster as the provider has it (e.g. from the vcluster's own secret). */
export interface ProviderKubeconfig {
  /** Kubeconfig YAML. */
  yaml: string;
  endpoint: string;
  expiresAt?: Date;
}

/** A refusal before anything changes: the host lacks a capability the request needs. */
export class ProviderPreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProviderPreconditionError";
  }
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
  /**
   * Checks, before the service accepts a request, that the host can do it; throws
   * ProviderPreconditionError saying exactly what is missing. Nothing may change.
   */
  preflight?(kind: OperationKind, vcluster: VCluster, details?: PreflightDetails): Promise<void>;
  /** The vcluster's kubeconfig in `format`; absent = the server builds one itself. */
  kubeconfig?(vcluster: VCluster, format: string, validityHours: number): Promise<ProviderKubeconfig>;
  /** Starts observing the host for `target`'s vclusters. Absent = nothing to observe. */
  observe?(target: ObservationTarget): void;
  /** Stops observing and releases connections. */
  close?(): Promise<void>;
}

/** What a provider saw of one vcluster on the host (never an assumption). */
export interface Observation {
  namespace: string;
  name: string;
  /**
   * running: all control-plane replicas ready; starting: release deployed, replicas not ready
   * yet; suspended: paused by annotation and scaled to zero; failed: the host shows a fault
   * (reason/message say which); unreachable: the provider could not look (after retries).
   */
  state: "running" | "starting" | "suspended" | "failed" | "unreachable";
  reason: string;
  message: string;
  readyReplicas: number;
  totalReplicas: number;
  helmRelease?: ProviderHelmRelease;
  endpoint?: string;
  usage?: Omit<ResourceUsage, "$typeName" | "$unknown">;
  /** Where usage came from: the metrics API, or the pods' requests when it is absent. */
  usageSource?: "metrics" | "requests";
}

/** The service's side of observing: which vclusters exist, and where findings go. */
export interface ObservationTarget {
  /** The vclusters to keep observing (read on every resync). */
  tracked(): Promise<{ namespace: string; name: string }[]>;
  /**
   * The stored version of this vcluster, or undefined when the API has no such vcluster
   * (events about anything else are ignored).
   */
  version(namespace: string, name: string): Promise<string | undefined>;
  /**
   * Folds one observation, taken when the vcluster was at `version`, into its status.
   * Returns false when the vcluster changed meanwhile (the observation may be stale: look again).
   */
  apply(observation: Observation, version: string): Promise<boolean>;
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
