import { Code } from "@connectrpc/connect";
import { type Snapshot, SnapshotStatus, type VCluster } from "@open-vcluster/api";
import { canAccess, type Principal } from "../auth/index.js";
import { apiError, notFound } from "../errors.js";
import { copyVCluster, freezeDeep, type StoreReader, type StoreTx, VersionConflictError } from "../store/index.js";
import { snapshotInfoStatus } from "./lifecycle.js";

// What more than one handler needs lives here, so that handler files never import each other.

/** Kubeconfigs are secrets: every object leaving the server without an explicit ask has none. */
export function withoutSecrets(vcluster: VCluster): VCluster {
  if (!vcluster.status?.kubeconfig) return vcluster;
  const frozen = Object.isFrozen(vcluster);
  const cached = frozen ? sanitized.get(vcluster) : undefined;
  if (cached) return cached;
  const copy = copyVCluster(vcluster);
  if (copy.status) copy.status.kubeconfig = "";
  // A frozen vcluster (a store peek) gets one frozen copy, so its encoding is shared too.
  if (frozen) sanitized.set(vcluster, freezeDeep(copy));
  return copy;
}

const sanitized = new WeakMap<VCluster, VCluster>();

export function alreadyExists(namespace: string, name: string) {
  return apiError(Code.AlreadyExists, "ALREADY_EXISTS", `vcluster ${namespace}/${name} already exists`, {
    field: "name",
  });
}

/** Keeps status.last_snapshot from pointing at a snapshot that no longer exists. */
export async function forgetLastSnapshot(tx: StoreTx, vclusterId: string, snapshotId: string): Promise<void> {
  const vcluster = await tx.getVClusterById(vclusterId);
  if (!vcluster?.status?.lastSnapshot || vcluster.status.lastSnapshot.id !== snapshotId) return;
  const copy = copyVCluster(vcluster);
  if (copy.status?.lastSnapshot) copy.status.lastSnapshot.status = snapshotInfoStatus(SnapshotStatus.DELETING);
  await tx.putVCluster(copy);
}

const CONFLICT_ATTEMPTS = 8;

/**
 * Runs a read-check-write transaction again when a compare-and-set lost against a concurrent
 * writer (another request or replica changed the vcluster in between). Each attempt starts
 * from a fresh read, so the phase checks see the winner's result. After repeated losses the
 * caller gets ABORTED, which clients retry.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (i >= CONFLICT_ATTEMPTS) {
        throw apiError(Code.Aborted, "ABORTED", `concurrent changes kept conflicting; retry: ${error.message}`, {
          retryDelayMs: 100,
        });
      }
    }
  }
}

export function namespaceOrDefault(namespace: string): string {
  return namespace === "" ? "default" : namespace;
}

/**
 * Finds a vcluster the caller may act on. A vcluster the caller may not see is reported
 * exactly like a missing one, so NOT_FOUND never reveals that someone else's vcluster exists.
 */
export async function findVisibleVCluster(
  tx: StoreReader,
  principal: Principal,
  ref: { name: string; namespace: string; id?: string },
  options: { peek?: boolean } = {},
): Promise<VCluster> {
  const namespace = namespaceOrDefault(ref.namespace);
  const vcluster = options.peek
    ? await (ref.id ? tx.peekVClusterById(ref.id) : tx.peekVCluster(namespace, ref.name))
    : await (ref.id ? tx.getVClusterById(ref.id) : tx.getVCluster(namespace, ref.name));
  const label = ref.id ? `vcluster with id ${ref.id}` : `vcluster ${namespace}/${ref.name}`;
  if (!vcluster || !canAccess(principal, vcluster)) throw notFound(label);
  // With both id and name given they must agree, or the request is about nothing.
  if (ref.id && ref.name && (vcluster.name !== ref.name || vcluster.namespace !== namespace)) throw notFound(label);
  return vcluster;
}

/** A snapshot is visible to whoever can see its vcluster; snapshots of deleted vclusters to admins only. */
export async function canAccessSnapshot(tx: StoreReader, principal: Principal, snapshot: Snapshot): Promise<boolean> {
  if (principal.admin) return true;
  const vcluster = await tx.getVClusterById(snapshot.vclusterId);
  return vcluster !== undefined && canAccess(principal, vcluster);
}

export async function findVisibleSnapshot(
  tx: StoreReader,
  principal: Principal,
  ref: { id: string; name?: string; namespace?: string },
): Promise<Snapshot> {
  const namespace = namespaceOrDefault(ref.namespace ?? "");
  const snapshot = ref.id ? await tx.getSnapshot(ref.id) : await tx.getSnapshotByName(namespace, ref.name ?? "");
  const label = ref.id ? `snapshot ${ref.id}` : `snapshot ${namespace}/${ref.name ?? ""}`;
  if (!snapshot || !(await canAccessSnapshot(tx, principal, snapshot))) throw notFound(label);
  return snapshot;
}
