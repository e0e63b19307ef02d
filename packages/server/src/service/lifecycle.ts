import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  HelmReleaseInfoSchema,
  Phase,
  ResourceUsageSchema,
  type Snapshot,
  SnapshotStatus,
  type VCluster,
  VClusterSchema,
  VClusterStatusSchema,
} from "@open-vcluster/api";
import type { OperationKind, ProviderResult } from "../provider/index.js";
import { copyVCluster } from "../store/index.js";
import {
  bumpGeneration,
  generationOf,
  PAUSED,
  PAUSED_DATE,
  PAUSED_REPLICAS,
  type PendingOperation,
  recordOperationId,
} from "./annotations.js";
import { setLifecycleConditions } from "./conditions.js";
import { IN_PROGRESS } from "./state-machine.js";

export function endpointFor(name: string, namespace: string): string {
  return `https://${name}.${namespace}.vcluster.local:443`;
}

/** A brand-new vcluster record in phase CREATING (also used by restore into a new vcluster). */
export function newVCluster(init: {
  id: string;
  name: string;
  namespace: string;
  spec: VCluster["spec"];
  labels: Record<string, string>;
  owner: string;
  project: string;
  now: Date;
  operation: PendingOperation;
  /** No provisioning capacity right now: the vcluster waits in PENDING. */
  pending?: boolean;
}): VCluster {
  const vcluster = create(VClusterSchema, {
    id: init.id,
    name: init.name,
    namespace: init.namespace,
    spec: init.spec,
    labels: { ...init.labels },
    annotations: {},
    createTime: timestampFromDate(init.now),
    updateTime: timestampFromDate(init.now),
    owner: init.owner,
    project: init.project,
    status: create(VClusterStatusSchema, {
      apiServerEndpoint: endpointFor(init.name, init.namespace),
      totalReplicas: init.spec?.replicas ?? 1,
      readyReplicas: 0,
      // Chart and app version are filled in from what the provider installed.
      helmRelease: create(HelmReleaseInfoSchema, { name: init.name, status: "pending-install", revision: 0 }),
      currentUsage: create(ResourceUsageSchema, {}),
    }),
  });
  bumpGeneration(vcluster);
  beginOperation(vcluster, init.operation, init.now);
  if (init.pending && vcluster.status) {
    vcluster.status.phase = Phase.PENDING;
    vcluster.status.reason = "Pending";
    vcluster.status.message = "Waiting for provisioning capacity";
  }
  return vcluster;
}

/** Marks the start of an operation: transitional phase, operation id, conditions. */
export function beginOperation(vcluster: VCluster, op: PendingOperation, now: Date): void {
  const status = ensureStatus(vcluster);
  const step = IN_PROGRESS[op.kind];
  if (step.phase !== undefined) status.phase = step.phase;
  status.reason = step.reason;
  status.message = step.message;
  const controlPlaneUp = op.kind !== "create" && op.kind !== "resume" && status.readyReplicas > 0;
  setLifecycleConditions(
    status,
    {
      ready: "False",
      controlPlane: op.kind === "delete" || op.kind === "suspend" ? "False" : controlPlaneUp ? "True" : "False",
      suspended: op.kind === "resume" ? "True" : "False",
    },
    step.reason,
    step.message,
    now,
  );
  recordOperationId(vcluster, op);
  if (op.kind === "delete" && !vcluster.deleteTime) vcluster.deleteTime = timestampFromDate(now);
  vcluster.updateTime = timestampFromDate(now);
}

/** The operation succeeded and the control plane serves again (create/update/scale/resume/restore/snapshot). */
export function completeRunning(vcluster: VCluster, kind: OperationKind, result: ProviderResult, now: Date): void {
  const status = ensureStatus(vcluster);
  const replicas = vcluster.spec?.replicas || 1;
  const wasReady = status.phase === Phase.RUNNING && status.readyReplicas > 0 && kind === "snapshot";
  status.phase = Phase.RUNNING;
  status.reason = "Running";
  status.message = "The vcluster is running";
  status.readyReplicas = result.readyReplicas ?? replicas;
  status.totalReplicas = replicas;
  status.observedGeneration = generationOf(vcluster);
  if (result.usage) status.currentUsage = create(ResourceUsageSchema, result.usage);
  if (result.endpoint) status.apiServerEndpoint = result.endpoint;
  if (!wasReady && kind !== "snapshot") status.readyTime = timestampFromDate(now);
  // The release as the provider reports it (Helm's own chart, app version and revision).
  const helm = status.helmRelease ?? create(HelmReleaseInfoSchema, { name: vcluster.name });
  if (result.helmRelease) Object.assign(helm, result.helmRelease);
  else helm.status = "deployed";
  status.helmRelease = helm;
  if (kind === "resume" || kind === "restore") {
    delete vcluster.annotations[PAUSED];
    delete vcluster.annotations[PAUSED_REPLICAS];
    delete vcluster.annotations[PAUSED_DATE];
  }
  setLifecycleConditions(
    status,
    { ready: "True", controlPlane: "True", suspended: "False" },
    "Running",
    status.message,
    now,
  );
  vcluster.updateTime = timestampFromDate(now);
}

/** The control plane is scaled to zero; vcluster's pause annotations record how to come back. */
export function completeSuspended(vcluster: VCluster, result: ProviderResult, now: Date): void {
  const status = ensureStatus(vcluster);
  const replicas = vcluster.spec?.replicas || 1;
  status.phase = Phase.SUSPENDED;
  status.reason = "Suspended";
  status.message = "The control plane is scaled to zero";
  status.readyReplicas = 0;
  status.totalReplicas = replicas;
  status.observedGeneration = generationOf(vcluster);
  if (result.usage) status.currentUsage = create(ResourceUsageSchema, result.usage);
  vcluster.annotations[PAUSED] = "true";
  vcluster.annotations[PAUSED_REPLICAS] = String(replicas);
  vcluster.annotations[PAUSED_DATE] = now.toISOString();
  setLifecycleConditions(
    status,
    { ready: "False", controlPlane: "False", suspended: "True" },
    "Suspended",
    status.message,
    now,
  );
  vcluster.updateTime = timestampFromDate(now);
}

/** The provider failed: ERROR with a machine-readable reason, the message, and conditions to match. */
export function completeFailed(vcluster: VCluster, kind: OperationKind, message: string, now: Date): void {
  const status = ensureStatus(vcluster);
  status.phase = Phase.ERROR;
  status.reason = "ProviderFailed";
  status.message = `${kind} failed: ${message}`;
  status.observedGeneration = generationOf(vcluster);
  if (status.helmRelease && kind !== "delete") status.helmRelease.status = "failed";
  setLifecycleConditions(
    status,
    {
      ready: "False",
      controlPlane: status.readyReplicas > 0 ? "True" : "False",
      suspended: vcluster.annotations[PAUSED] === "true" ? "True" : "False",
    },
    "ProviderFailed",
    status.message,
    now,
  );
  vcluster.updateTime = timestampFromDate(now);
}

export function snapshotInfoStatus(status: SnapshotStatus): string {
  return `SNAPSHOT_STATUS_${SnapshotStatus[status] ?? "UNSPECIFIED"}`;
}

/** Mirrors a snapshot into status.last_snapshot. */
export function recordLastSnapshot(vcluster: VCluster, snapshot: Snapshot): void {
  const status = ensureStatus(vcluster);
  status.lastSnapshot = {
    $typeName: "vcluster.api.v1.SnapshotInfo",
    id: snapshot.id,
    name: snapshot.name,
    createTime: snapshot.createTime,
    sizeBytes: snapshot.sizeBytes,
    status: snapshotInfoStatus(snapshot.status),
  };
}

function ensureStatus(vcluster: VCluster) {
  if (!vcluster.status) vcluster.status = create(VClusterStatusSchema, {});
  return vcluster.status;
}

/** A working copy: the store hands out objects that must not be mutated in place. */
export function editable(vcluster: VCluster): VCluster {
  return copyVCluster(vcluster);
}
