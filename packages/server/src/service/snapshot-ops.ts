import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
  Phase,
  type RestoreVClusterRequest,
  type RestoreVClusterResponse,
  RestoreVClusterResponseSchema,
  type Snapshot,
  SnapshotSchema,
  SnapshotStatus,
  type SnapshotVClusterRequest,
  type SnapshotVClusterResponse,
  SnapshotVClusterResponseSchema,
  type SuspendVClusterRequest,
  type SuspendVClusterResponse,
  SuspendVClusterResponseSchema,
  type VCluster,
  VClusterSchema,
} from "@open-vcluster/api";
import { canAccess, projectForCreate } from "../auth/index.js";
import { apiError, failedPrecondition, invalidField, notFound } from "../errors.js";
import { NameConflictError, type StoreTx } from "../store/index.js";
import {
  invalidArgument,
  validateRestoreVCluster,
  validateSnapshotVCluster,
  validateSuspendVCluster,
} from "../validation/index.js";
import { bumpGeneration, type PendingOperation } from "./annotations.js";
import { alreadyExists } from "./create.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { beginOperation, newVCluster, recordLastSnapshot } from "./lifecycle.js";
import { findVisibleSnapshot, findVisibleVCluster, namespaceOrDefault } from "./lookup.js";
import { mutateVCluster } from "./mutation.js";
import { requirePhase } from "./phases.js";
import { preflight } from "./preflight.js";
import { withoutSecrets } from "./read.js";
import { decodeSnapshotContent, storageUri } from "./snapshot-content.js";

function defaultSnapshotName(vclusterName: string, id: string): string {
  return `${vclusterName}-${id.replace(/-/g, "").slice(0, 8)}`.slice(0, 63);
}

/** Inserts the CREATING snapshot record and mirrors it into the vcluster's status. */
function startSnapshot(
  deps: ServiceDeps,
  tx: StoreTx,
  vcluster: VCluster,
  init: { name: string; description: string; retentionHours: number; labels: Record<string, string> },
  now: Date,
): Snapshot {
  const id = deps.newId();
  const name = init.name || defaultSnapshotName(vcluster.name, id);
  if (tx.getSnapshotByName(vcluster.namespace, name)) {
    throw apiError(Code.AlreadyExists, "ALREADY_EXISTS", `snapshot ${vcluster.namespace}/${name} already exists`, {
      field: "snapshot_name",
    });
  }
  const snapshot = create(SnapshotSchema, {
    id,
    name,
    vclusterId: vcluster.id,
    vclusterName: vcluster.name,
    namespace: vcluster.namespace,
    status: SnapshotStatus.CREATING,
    sizeBytes: 0n,
    createTime: timestampFromDate(now),
    expireTime: init.retentionHours > 0 ? timestampFromMs(now.getTime() + init.retentionHours * 3_600_000) : undefined,
    labels: { ...init.labels },
    description: init.description,
    storageUri: storageUri(vcluster.namespace, id),
  });
  try {
    tx.putSnapshot(snapshot);
  } catch (error) {
    if (error instanceof NameConflictError) {
      throw apiError(Code.AlreadyExists, "ALREADY_EXISTS", error.message, { field: "snapshot_name" });
    }
    throw error;
  }
  recordLastSnapshot(vcluster, snapshot);
  return snapshot;
}

export async function snapshotVCluster(
  deps: ServiceDeps,
  req: SnapshotVClusterRequest,
  ctx: HandlerContext,
): Promise<SnapshotVClusterResponse> {
  const violations = validateSnapshotVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  await preflight(deps, "snapshot", findVisibleVCluster(deps.store, principalOf(ctx), req));
  const result = mutateVCluster(deps, ctx, req, (tx, vcluster, now) => {
    requirePhase(vcluster, [Phase.RUNNING], "take a snapshot");
    const snapshot = startSnapshot(
      deps,
      tx,
      vcluster,
      { name: req.snapshotName, description: req.description, retentionHours: req.retentionHours, labels: req.labels },
      now,
    );
    const operation: PendingOperation = {
      kind: "snapshot",
      id: deps.newId(),
      snapshotId: snapshot.id,
      includeWorkloads: req.includeWorkloads,
    };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation, extra: snapshot };
  });
  return create(SnapshotVClusterResponseSchema, { snapshot: result.extra, operationId: result.operationId });
}

export async function suspendVCluster(
  deps: ServiceDeps,
  req: SuspendVClusterRequest,
  ctx: HandlerContext,
): Promise<SuspendVClusterResponse> {
  const violations = validateSuspendVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const target = findVisibleVCluster(deps.store, principalOf(ctx), req);
  await preflight(deps, req.createSnapshot ? "snapshot" : "suspend", target);
  const result = mutateVCluster(deps, ctx, req, (tx, vcluster, now) => {
    requirePhase(vcluster, [Phase.RUNNING], "suspend");
    // Suspension is a change of desired state (as `spec.suspend` is in Kubernetes): the new
    // generation stays unobserved until the vcluster is SUSPENDED, which tells waiters that the
    // RUNNING vcluster they see is on its way down.
    bumpGeneration(vcluster);
    const drain = { drainWorkloads: req.drainWorkloads, drainTimeoutSeconds: req.drainTimeoutSeconds };
    if (!req.createSnapshot) {
      const operation: PendingOperation = { kind: "suspend", id: deps.newId(), ...drain };
      beginOperation(vcluster, operation, now);
      return { vcluster, operation };
    }
    const snapshot = startSnapshot(
      deps,
      tx,
      vcluster,
      { name: req.snapshotName, description: "taken before suspend", retentionHours: 0, labels: {} },
      now,
    );
    const operation: PendingOperation = {
      kind: "snapshot",
      id: deps.newId(),
      snapshotId: snapshot.id,
      thenSuspend: true,
      ...drain,
    };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation, extra: snapshot };
  });
  return create(SuspendVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    snapshot: result.extra,
    operationId: result.operationId,
  });
}

/**
 * Restore checks the snapshot (exists, visible, READY, content readable) before it touches
 * any vcluster, so a bad snapshot never leaves a half-restored cluster behind.
 */
export async function restoreVCluster(
  deps: ServiceDeps,
  req: RestoreVClusterRequest,
  ctx: HandlerContext,
): Promise<RestoreVClusterResponse> {
  const violations = validateRestoreVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const principal = principalOf(ctx);
  const namespace = namespaceOrDefault(req.namespace);

  const loadSnapshot = (tx: StoreTx) => {
    const snapshot = findVisibleSnapshot(tx, principal, { id: req.snapshotId });
    if (snapshot.status !== SnapshotStatus.READY) {
      throw failedPrecondition(
        `snapshot ${snapshot.id} is ${SnapshotStatus[snapshot.status]}; only READY snapshots can be restored`,
        {
          snapshot_status: `SNAPSHOT_STATUS_${SnapshotStatus[snapshot.status]}`,
        },
      );
    }
    const bytes = tx.getSnapshotContent(snapshot.id);
    if (!bytes) throw notFound(`content of snapshot ${snapshot.id}`);
    return { snapshot, ...decodeSnapshotContent(bytes) };
  };

  const checked = deps.store.transaction((tx) => loadSnapshot(tx));
  const target = req.createNew
    ? create(VClusterSchema, {
        name: req.newName,
        namespace: req.newNamespace || checked.snapshot.namespace,
        spec: checked.spec,
        labels: checked.content.vcluster.labels,
      })
    : findVisibleVCluster(deps.store, principal, { name: req.name, namespace });
  await preflight(deps, "restore", target, { restoreWorkloads: req.restoreWorkloads });

  if (req.createNew) {
    const newNamespace = req.newNamespace || undefined;
    const stored = deps.store.transaction((tx) => {
      const { snapshot, spec, content } = loadSnapshot(tx);
      if (snapshot.vclusterName !== req.name || snapshot.namespace !== namespace) {
        throw invalidField(
          "snapshot_id",
          `snapshot ${snapshot.id} was taken of ${snapshot.namespace}/${snapshot.vclusterName}, not ${namespace}/${req.name}`,
        );
      }
      const targetNamespace = newNamespace ?? snapshot.namespace;
      const placement = projectForCreate(principal, content.vcluster.labels);
      if ("denied" in placement) throw apiError(Code.PermissionDenied, "PERMISSION_DENIED", placement.denied);
      if (tx.getVCluster(targetNamespace, req.newName)) throw alreadyExists(targetNamespace, req.newName);
      const operation: PendingOperation = { kind: "create", id: deps.newId() };
      const vcluster = newVCluster({
        id: deps.newId(),
        name: req.newName,
        namespace: targetNamespace,
        spec,
        labels: content.vcluster.labels,
        owner: principal.subject,
        project: placement.project,
        now: deps.clock.now(),
        operation,
        pending: !deps.operations.hasProvisioningCapacity(),
      });
      vcluster.annotations["vcluster.open-vcluster.io/restored-from"] = snapshot.id;
      return { vcluster: tx.putVCluster(vcluster), operation };
    });
    deps.operations.start(stored.vcluster.id, stored.operation);
    return create(RestoreVClusterResponseSchema, {
      vcluster: withoutSecrets(stored.vcluster),
      operationId: stored.operation.id,
    });
  }

  // Snapshot first (NOT_FOUND / FAILED_PRECONDITION, checked above), then the target vcluster.
  const result = mutateVCluster(deps, ctx, req, (tx, vcluster, now) => {
    const { snapshot, spec, content } = loadSnapshot(tx);
    if (snapshot.vclusterName !== vcluster.name || snapshot.namespace !== vcluster.namespace) {
      throw invalidField(
        "snapshot_id",
        `snapshot ${snapshot.id} was taken of ${snapshot.namespace}/${snapshot.vclusterName}, not ${vcluster.namespace}/${vcluster.name}`,
      );
    }
    if (!canAccess(principal, vcluster)) throw notFound(`vcluster ${vcluster.namespace}/${vcluster.name}`);
    requirePhase(vcluster, [Phase.RUNNING, Phase.SUSPENDED, Phase.ERROR], "restore");
    vcluster.spec = spec;
    vcluster.labels = { ...content.vcluster.labels };
    vcluster.annotations["vcluster.open-vcluster.io/restored-from"] = snapshot.id;
    bumpGeneration(vcluster);
    const operation: PendingOperation = { kind: "restore", id: deps.newId(), snapshotId: snapshot.id };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation };
  });
  return create(RestoreVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}
