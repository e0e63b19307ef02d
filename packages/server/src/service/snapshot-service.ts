import { create } from "@bufbuild/protobuf";
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
} from "@open-vcluster/api";
import { visibilityFilter } from "../auth/index.js";
import { failedPrecondition } from "../errors.js";
import { type SnapshotCursor, type StoreReader, snapshotCursor } from "../store/index.js";
import {
  invalidArgument,
  validateDeleteSnapshot,
  validateGetSnapshot,
  validateListSnapshots,
} from "../validation/index.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { decodePageToken, effectivePageSize, encodePageToken, queryHash } from "./page-token.js";
import { compileSelector } from "./selector.js";
import { findVisibleSnapshot, forgetLastSnapshot, retryOnConflict } from "./shared.js";

export async function listSnapshots(
  deps: ServiceDeps,
  req: ListSnapshotsRequest,
  ctx: HandlerContext,
): Promise<ListSnapshotsResponse> {
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
  const page = await deps.store.read(async (tx) => {
    const visible = await visibleVClusterIds(tx, principal);
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
async function visibleVClusterIds(
  tx: StoreReader,
  principal: ReturnType<typeof principalOf>,
): Promise<Set<string> | undefined> {
  const visibleTo = visibilityFilter(principal);
  if (!visibleTo) return undefined;
  const ids = new Set<string>();
  let after: Parameters<StoreReader["listVClusters"]>[2];
  for (;;) {
    const page = await tx.listVClusters({ visibleTo }, "name", after, 1000);
    for (const v of page.items) ids.add(v.id);
    const last = page.items.at(-1);
    if (!page.hasMore || !last) return ids;
    after = { namespace: last.namespace, name: last.name, createTimeMs: 0, id: last.id };
  }
}

export async function getSnapshot(
  deps: ServiceDeps,
  req: GetSnapshotRequest,
  ctx: HandlerContext,
): Promise<GetSnapshotResponse> {
  const violations = validateGetSnapshot(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const snapshot = await deps.store.read((tx) => findVisibleSnapshot(tx, principalOf(ctx), req));
  return create(GetSnapshotResponseSchema, { snapshot });
}

export async function deleteSnapshot(
  deps: ServiceDeps,
  req: DeleteSnapshotRequest,
  ctx: HandlerContext,
): Promise<DeleteSnapshotResponse> {
  const violations = validateDeleteSnapshot(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const now = deps.clock.now();
  await retryOnConflict(() =>
    deps.store.transaction(async (tx) => {
      const snapshot = await findVisibleSnapshot(tx, principalOf(ctx), { id: req.id });
      if (snapshot.status === SnapshotStatus.CREATING && !req.force) {
        throw failedPrecondition(`snapshot ${snapshot.id} is still being taken; wait for it or set force`, {
          snapshot_status: "SNAPSHOT_STATUS_CREATING",
        });
      }
      await tx.deleteSnapshot(snapshot.id);
      await forgetLastSnapshot(tx, snapshot.vclusterId, snapshot.id);
    }),
  );
  return create(DeleteSnapshotResponseSchema, { deleteTime: timestampFromDate(now) });
}
