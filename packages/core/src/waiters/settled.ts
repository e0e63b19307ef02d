import { Annotations, Phase, type VCluster } from "@open-vcluster/api";

/** Phases in which an operation is still under way; the server leaves each on its own. */
const TRANSITIONAL = new Set<Phase>([
  Phase.PENDING,
  Phase.CREATING,
  Phase.UPDATING,
  Phase.SCALING,
  Phase.SNAPSHOTTING,
  Phase.RESTORING,
  Phase.RESUMING,
  Phase.DELETING,
]);

/** The desired-state generation the server stamped on the object (0 when absent). */
export function generationOf(vcluster: VCluster): bigint {
  const raw = vcluster.annotations[Annotations.generation];
  return raw && /^\d+$/.test(raw) ? BigInt(raw) : 0n;
}

/**
 * Whether the server has finished acting on the vcluster: it observed the latest generation
 * (every change of desired state — spec, suspend, resume — raises the generation, and the
 * server sets `status.observed_generation` when the operation ends) and no transitional phase
 * is left. A suspend in progress, for instance, is RUNNING but not settled.
 */
export function isSettled(vcluster: VCluster): boolean {
  const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
  if (phase === Phase.UNSPECIFIED || TRANSITIONAL.has(phase)) return false;
  return (vcluster.status?.observedGeneration ?? 0n) >= generationOf(vcluster);
}
