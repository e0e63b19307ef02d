import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import {
  type DeleteSnapshotRequest,
  type DeleteSnapshotResponse,
  DeleteSnapshotResponseSchema,
  type GetSnapshotRequest,
  type GetSnapshotResponse,
  GetSnapshotResponseSchema,
  type ListSnapshotsRequest,
  type ListSnapshotsResponse,
  ListSnapshotsResponseSchema,
  SnapshotStatus,
  VClusterSchema,
} from "@open-vcluster/api";
import { visibilityFilter } from "../auth/index.js";
import { failedPrecondition } from "../errors.js";
import { type SnapshotCursor, type StoreTx, snapshotCursor } from "../store/index.js";
import {
  invalidArgument,
  validateDeleteSnapshot,
  validateGetSnapshot,
  validateListSnapshots,
} from "../validation/index.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { snapshotInfoStatus } from "./lifecycle.js";
import { findVisibleSnapshot } from "./lookup.js";
import { decodePageToken, effectivePageSize, encodePageToken, queryHash } from "./page-token.js";
import { compileSelector } from "./selector.js";

export function listSnapshots(
  deps: ServiceDeps,
  req: ListSnapshotsRequest,
  ctx: HandlerContext,
): ListSnapshotsResponse {
  const violations = validateListSnapshots(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const principal = principalOf(ctx);
  const query = queryHash({
    kind: "snapshots",
    subject: principal.subject,
    namespace: req.namespace,
    vcluster: req.vclusterName,
    selector: req.labelSelector,
  });
  const after = req.pageToken ? decodePageToken<SnapshotCursor>(deps.pageTokenKey, req.pageToken, query) : undefined;
  const labels = compileSelector(req.labelSelector, "label_selector");
  const page = deps.store.transaction((tx) => {
    const visible = visibleVClusterIds(tx, principal);
    return tx.listSnapshots(
      {
        ...(req.namespace ? { namespace: req.namespace } : {}),
        ...(req.vclusterName ? { vclusterName: req.vclusterName } : {}),
        ...(labels ? { labels } : {}),
        ...(visible ? { visibleVClusterIds: visible } : {}),
      },
      after,
      effectivePageSize(req.pageSize),
    );
  });
  const last = page.items.at(-1);
  return create(ListSnapshotsResponseSchema, {
    snapshots: page.items,
    nextPageToken: page.hasMore && last ? encodePageToken(deps.pageTokenKey, query, snapshotCursor(last)) : "",
    totalCount: page.total,
  });
}

/** Ids of the vclusters a non-admin may see (undefined for admins: no restriction). */
function visibleVClusterIds(tx: StoreTx, principal: ReturnType<typeof principalOf>): Set<string> | undefined {
  const visibleTo = visibilityFilter(principal);
  if (!visibleTo) return undefined;
  const ids = new Set<string>();
  let after: Parameters<StoreTx["listVClusters"]>[2];
  for (;;) {
    const page = tx.listVClusters({ visibleTo }, "name", after, 1000);
    for (const v of page.items) ids.add(v.id);
    const last = page.items.at(-1);
    if (!page.hasMore || !last) return ids;
    after = { namespace: last.namespace, name: last.name, createTimeMs: 0, id: last.id };
  }
}

export function getSnapshot(deps: ServiceDeps, req: GetSnapshotRequest, ctx: HandlerContext): GetSnapshotResponse {
  const violations = validateGetSnapshot(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const snapshot = deps.store.transaction((tx) => findVisibleSnapshot(tx, principalOf(ctx), req));
  return create(GetSnapshotResponseSchema, { snapshot });
}

export function deleteSnapshot(
  deps: ServiceDeps,
  req: DeleteSnapshotRequest,
  ctx: HandlerContext,
): DeleteSnapshotResponse {
  const violations = validateDeleteSnapshot(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const now = deps.clock.now();
  deps.store.transaction((tx) => {
    const snapshot = findVisibleSnapshot(tx, principalOf(ctx), { id: req.id });
    if (snapshot.status === SnapshotStatus.CREATING && !req.force) {
      throw failedPrecondition(`snapshot ${snapshot.id} is still being taken; wait for it or set force`, {
        snapshot_status: "SNAPSHOT_STATUS_CREATING",
      });
    }
    tx.deleteSnapshot(snapshot.id);
    forgetLastSnapshot(tx, snapshot.vclusterId, snapshot.id);
  });
  return create(DeleteSnapshotResponseSchema, { deleteTime: timestampFromDate(now) });
}

/** Keeps status.last_snapshot from pointing at a snapshot that no longer exists. */
export function forgetLastSnapshot(tx: StoreTx, vclusterId: string, snapshotId: string): void {
  const vcluster = tx.getVClusterById(vclusterId);
  if (!vcluster?.status?.lastSnapshot || vcluster.status.lastSnapshot.id !== snapshotId) return;
  const copy = clone(VClusterSchema, vcluster);
  if (copy.status?.lastSnapshot) copy.status.lastSnapshot.status = snapshotInfoStatus(SnapshotStatus.DELETING);
  tx.putVCluster(copy);
}
