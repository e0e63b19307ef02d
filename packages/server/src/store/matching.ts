import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Phase } from "@open-vcluster/api";
import type { LabelRequirement } from "@open-vcluster/core";
import type { SnapshotFilter, VClusterFilter } from "./types.js";

/** The filter semantics the SQLite store expresses in SQL, for stores that filter in memory. */
export function matchesVClusterFilter(filter: VClusterFilter, vcluster: VCluster): boolean {
  if (filter.namespace !== undefined && vcluster.namespace !== filter.namespace) return false;
  if (filter.name !== undefined && vcluster.name !== filter.name) return false;
  if (filter.owner !== undefined && vcluster.owner !== filter.owner) return false;
  if (filter.project !== undefined && vcluster.project !== filter.project) return false;
  if (filter.phases !== undefined && filter.phases.length > 0) {
    if (!filter.phases.includes(vcluster.status?.phase ?? Phase.UNSPECIFIED)) return false;
  }
  const visibleTo = filter.visibleTo;
  if (visibleTo !== undefined) {
    if (vcluster.owner !== visibleTo.owner && !visibleTo.projects.includes(vcluster.project)) return false;
  }
  return filter.labels === undefined || filter.labels(vcluster.labels);
}

export function matchesSnapshotFilter(filter: SnapshotFilter, snapshot: Snapshot): boolean {
  if (filter.namespace !== undefined && snapshot.namespace !== filter.namespace) return false;
  if (filter.vclusterName !== undefined && snapshot.vclusterName !== filter.vclusterName) return false;
  if (filter.vclusterId !== undefined && snapshot.vclusterId !== filter.vclusterId) return false;
  if (filter.visibleVClusterIds !== undefined && !filter.visibleVClusterIds.has(snapshot.vclusterId)) return false;
  return filter.labels === undefined || filter.labels(snapshot.labels);
}

/** Page sizes are decided by the caller; the store only refuses nonsense. */
export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`page limit must be a non-negative integer, got ${limit}`);
  }
}

/**
 * The requirements a page can be driven by: one label pair, whose index rows are in page order.
 * The store picks the one with the fewest vclusters (from the kept tallies).
 */
export function drivingCandidates(filter: VClusterFilter): LabelRequirement[] {
  return (filter.labels?.requirements ?? []).filter(
    (r) => r.operator === "=" || (r.operator === "in" && new Set(r.values).size === 1),
  );
}
