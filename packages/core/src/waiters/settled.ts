import { Annotations, Phase, Phases, type VCluster } from "@open-vcluster/api";

/** The desired-state generation the server stamped on the object (0 when absent). */
export function generationOf(vcluster: VCluster): bigint {
  const raw = vcluster.annotations[Annotations.generation];
  return raw && /^\d+$/.test(raw) ? BigInt(raw) : 0n;
}

/**
 * Whether the server has finished acting on the vcluster: it observed the latest generation
 * (every change of desired state — spec, suspend, resume — raises the generation, and the
 * server sets `status.observed_generation` when the operation ends) and its phase is settled
 * (`Phases.settled`, from the contract). A suspend in progress, for instance, is RUNNING but not settled.
 */
export function isSettled(vcluster: VCluster): boolean {
  const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
  if (!Phases.settled.has(phase)) return false;
  return (vcluster.status?.observedGeneration ?? 0n) >= generationOf(vcluster);
}
