import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
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
import { NameConflictError, type StoreReader, type StoreTx } from "../store/index.js";
import {
  invalidArgument,
  validateRestoreVCluster,
  validateSnapshotVCluster,
  validateSuspendVCluster,
} from "../validation/index.js";
import { bumpGeneration, type PendingOperation } from "./annotations.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { newVCluster, recordLastSnapshot } from "./lifecycle.js";
import { mutateVCluster } from "./mutation.js";
import { preflight } from "./preflight.js";
import {
  alreadyExists,
  findVisibleSnapshot,
  findVisibleVCluster,
  namespaceOrDefault,
  retryOnConflict,
  withoutSecrets,
} from "./shared.js";
import { decodeSnapshotContent, storageUri } from "./snapshot-content.js";
import { requireAllowed } from "./state-machine.js";

function defaultSnapshotName(vclusterName: string, id: string): string {
  return `${vclusterName}-${id.replace(/-/g, "").slice(0, 8)}`.slice(0, 63);
}

/** Inserts the CREATING snapshot record and mirrors it into the vcluster's status. */
async function startSnapshot(
  deps: ServiceDeps,
  tx: StoreTx,
  vcluster: VCluster,
  init: { name: string; description: string; retentionHours: number; labels: Record<string, string> },
  now: Date,
): Promise<Snapshot> {
  const id = deps.newId();
  const name = init.name || defaultSnapshotName(vcluster.name, id);
  if (await tx.getSnapshotByName(vcluster.namespace, name)) {
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
    await tx.putSnapshot(snapshot);
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
  await preflight(deps, "snapshot", await findVisibleVCluster(deps.store, principalOf(ctx), req));
  const result = await mutateVCluster(deps, ctx, req, async ({ tx, vcluster, running, now }) => {
    requireAllowed("snapshot", vcluster, running);
    const snapshot = await startSnapshot(
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
    return { operation, extra: snapshot };
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
  const target = await findVisibleVCluster(deps.store, principalOf(ctx), req);
  await preflight(deps, req.createSnapshot ? "snapshot" : "suspend", target);
  const result = await mutateVCluster(deps, ctx, req, async ({ tx, vcluster, running, now }) => {
    requireAllowed("suspend", vcluster, running);
    // Suspension is a change of desired state (as `spec.suspend` is in Kubernetes): the new
    // generation stays unobserved until the vcluster is SUSPENDED, which tells waiters that the
    // RUNNING vcluster they see is on its way down.
    bumpGeneration(vcluster);
    const drain = { drainWorkloads: req.drainWorkloads, drainTimeoutSeconds: req.drainTimeoutSeconds };
    if (!req.createSnapshot) {
      const operation: PendingOperation = { kind: "suspend", id: deps.newId(), ...drain };
      return { operation };
    }
    const snapshot = await startSnapshot(
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
    return { operation, extra: snapshot };
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

  const loadSnapshot = async (tx: StoreReader) => {
    const snapshot = await findVisibleSnapshot(tx, principal, { id: req.snapshotId });
    if (snapshot.status !== SnapshotStatus.READY) {
      throw failedPrecondition(
        `snapshot ${snapshot.id} is ${SnapshotStatus[snapshot.status]}; only READY snapshots can be restored`,
        {
          snapshot_status: `SNAPSHOT_STATUS_${SnapshotStatus[snapshot.status]}`,
        },
      );
    }
    const bytes = await tx.getSnapshotContent(snapshot.id);
    if (!bytes) throw notFound(`content of snapshot ${snapshot.id}`);
    return { snapshot, ...decodeSnapshotContent(bytes) };
  };

  const checked = await loadSnapshot(deps.store);
  const target = req.createNew
    ? create(VClusterSchema, {
        name: req.newName,
        namespace: req.newNamespace || checked.snapshot.namespace,
        spec: checked.spec,
        labels: checked.content.vcluster.labels,
      })
    : await findVisibleVCluster(deps.store, principal, { name: req.name, namespace });
  await preflight(deps, "restore", target, {
    restoreWorkloads: req.restoreWorkloads,
    createNew: req.createNew,
    backingStore: checked.content.backingStore,
  });

  if (req.createNew) {
    const newNamespace = req.newNamespace || undefined;
    const stored = await retryOnConflict(() =>
      deps.store.transaction(async (tx) => {
        const { snapshot, spec, content } = await loadSnapshot(tx);
        if (snapshot.vclusterName !== req.name || snapshot.namespace !== namespace) {
          throw invalidField(
            "snapshot_id",
            `snapshot ${snapshot.id} was taken of ${snapshot.namespace}/${snapshot.vclusterName}, not ${namespace}/${req.name}`,
          );
        }
        const targetNamespace = newNamespace ?? snapshot.namespace;
        const placement = projectForCreate(principal, content.vcluster.labels);
        if ("denied" in placement) throw apiError(Code.PermissionDenied, "PERMISSION_DENIED", placement.denied);
        if (await tx.getVCluster(targetNamespace, req.newName)) throw alreadyExists(targetNamespace, req.newName);
        // The create carries the snapshot: a provider creates the new vcluster from it.
        const operation: PendingOperation = { kind: "create", id: deps.newId(), snapshotId: snapshot.id };
        const waiting = await deps.operations.mustWaitForCapacity(tx);
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
          pending: waiting,
        });
        vcluster.annotations["vcluster.open-vcluster.io/restored-from"] = snapshot.id;
        const created = await tx.putVCluster(vcluster, 0);
        await tx.putOperation(created.id, { ...operation }, waiting ? { waiting: true } : deps.operations.lease());
        return { vcluster: created, operation, waiting };
      }),
    );
    if (stored.waiting) deps.operations.claimSoon();
    else deps.operations.start(stored.vcluster.id, stored.operation);
    return create(RestoreVClusterResponseSchema, {
      vcluster: withoutSecrets(stored.vcluster),
      operationId: stored.operation.id,
    });
  }

  // Snapshot first (NOT_FOUND / FAILED_PRECONDITION, checked above), then the target vcluster.
  const result = await mutateVCluster(deps, ctx, req, async ({ tx, vcluster, running }) => {
    const { snapshot, spec, content } = await loadSnapshot(tx);
    if (snapshot.vclusterName !== vcluster.name || snapshot.namespace !== vcluster.namespace) {
      throw invalidField(
        "snapshot_id",
        `snapshot ${snapshot.id} was taken of ${snapshot.namespace}/${snapshot.vclusterName}, not ${vcluster.namespace}/${vcluster.name}`,
      );
    }
    if (!canAccess(principal, vcluster)) throw notFound(`vcluster ${vcluster.namespace}/${vcluster.name}`);
    requireAllowed("restore", vcluster, running);
    vcluster.spec = spec;
    vcluster.labels = { ...content.vcluster.labels };
    vcluster.annotations["vcluster.open-vcluster.io/restored-from"] = snapshot.id;
    bumpGeneration(vcluster);
    const operation: PendingOperation = { kind: "restore", id: deps.newId(), snapshotId: snapshot.id };
    return { operation };
  });
  return create(RestoreVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}
