import type { Snapshot, VCluster } from "@open-vcluster/api";
import { canAccess, type Principal } from "../auth/index.js";
import { notFound } from "../errors.js";
import type { StoreTx } from "../store/index.js";

export function namespaceOrDefault(namespace: string): string {
  return namespace === "" ? "default" : namespace;
}

/**
 * Finds a vcluster the caller may act on. A vcluster the caller may not see is reported
 * exactly like a missing one, so NOT_FOUND never reveals that someone else's vcluster exists.
 */
export function findVisibleVCluster(
  tx: StoreTx,
  principal: Principal,
  ref: { name: string; namespace: string; id?: string },
): VCluster {
  const namespace = namespaceOrDefault(ref.namespace);
  const vcluster = ref.id ? tx.getVClusterById(ref.id) : tx.getVCluster(namespace, ref.name);
  const label = ref.id ? `vcluster with id ${ref.id}` : `vcluster ${namespace}/${ref.name}`;
  if (!vcluster || !canAccess(principal, vcluster)) throw notFound(label);
  // With both id and name given they must agree, or the request is about nothing.
  if (ref.id && ref.name && (vcluster.name !== ref.name || vcluster.namespace !== namespace)) throw notFound(label);
  return vcluster;
}

/** A snapshot is visible to whoever can see its vcluster; snapshots of deleted vclusters to admins only. */
export function canAccessSnapshot(tx: StoreTx, principal: Principal, snapshot: Snapshot): boolean {
  if (principal.admin) return true;
  const vcluster = tx.getVClusterById(snapshot.vclusterId);
  return vcluster !== undefined && canAccess(principal, vcluster);
}

export function findVisibleSnapshot(
  tx: StoreTx,
  principal: Principal,
  ref: { id: string; name?: string; namespace?: string },
): Snapshot {
  const namespace = namespaceOrDefault(ref.namespace ?? "");
  const snapshot = ref.id ? tx.getSnapshot(ref.id) : tx.getSnapshotByName(namespace, ref.name ?? "");
  const label = ref.id ? `snapshot ${ref.id}` : `snapshot ${namespace}/${ref.name ?? ""}`;
  if (!snapshot || !canAccessSnapshot(tx, principal, snapshot)) throw notFound(label);
  return snapshot;
}
