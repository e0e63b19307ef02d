import type { ServiceImpl } from "@connectrpc/connect";
import type { SnapshotService, VClusterService } from "@open-vcluster/api";
import { createVCluster } from "./create.js";
import type { ServiceDeps } from "./deps.js";
import { deleteVCluster, resumeVCluster, scaleVCluster, updateVCluster } from "./mutate.js";
import { getVCluster, getVClusterKubeconfig, listVClusters } from "./read.js";
import { restoreVCluster, snapshotVCluster, suspendVCluster } from "./snapshot-ops.js";
import { deleteSnapshot, getSnapshot, listSnapshots } from "./snapshot-service.js";
import { watchVCluster } from "./watch.js";

export function vclusterServiceImpl(deps: ServiceDeps): ServiceImpl<typeof VClusterService> {
  return {
    createVCluster: (req, ctx) => deps.activity.track("create", req, ctx, () => createVCluster(deps, req, ctx)),
    getVCluster: (req, ctx) => getVCluster(deps, req, ctx),
    listVClusters: (req, ctx) => listVClusters(deps, req, ctx),
    updateVCluster: (req, ctx) => deps.activity.track("update", req, ctx, () => updateVCluster(deps, req, ctx)),
    deleteVCluster: (req, ctx) => deps.activity.track("delete", req, ctx, () => deleteVCluster(deps, req, ctx)),
    scaleVCluster: (req, ctx) => deps.activity.track("scale", req, ctx, () => scaleVCluster(deps, req, ctx)),
    suspendVCluster: (req, ctx) => deps.activity.track("suspend", req, ctx, () => suspendVCluster(deps, req, ctx)),
    resumeVCluster: (req, ctx) => deps.activity.track("resume", req, ctx, () => resumeVCluster(deps, req, ctx)),
    snapshotVCluster: (req, ctx) => deps.activity.track("snapshot", req, ctx, () => snapshotVCluster(deps, req, ctx)),
    restoreVCluster: (req, ctx) => deps.activity.track("restore", req, ctx, () => restoreVCluster(deps, req, ctx)),
    getVClusterKubeconfig: (req, ctx) => getVClusterKubeconfig(deps, req, ctx),
    watchVCluster: (req, ctx) => watchVCluster(deps, req, ctx),
    listVClusterEvents: (req, ctx) => deps.activity.listEvents(req, ctx),
    listVClusterUsage: (req, ctx) => deps.activity.listUsage(req, ctx),
  };
}

export function snapshotServiceImpl(deps: ServiceDeps): ServiceImpl<typeof SnapshotService> {
  return {
    listSnapshots: (req, ctx) => listSnapshots(deps, req, ctx),
    getSnapshot: (req, ctx) => getSnapshot(deps, req, ctx),
    deleteSnapshot: (req, ctx) => deleteSnapshot(deps, req, ctx),
  };
}

export { DEFAULT_LIMITS, type ServiceDeps, type ServiceLimits } from "./deps.js";
export { type SweepResult, startHousekeeping, sweepExpired } from "./housekeeping.js";
export { DEFAULT_LEASE_MS, OperationRunner, type OperationRunnerOptions } from "./operations.js";
export { LIFECYCLE, renderLifecycleTable } from "./state-machine.js";
export { WatchHub } from "./watch-hub.js";
