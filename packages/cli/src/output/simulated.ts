import type { VCluster } from "@open-vcluster/api";

/**
 * Whether the vcluster's API endpoint is simulated (no real API server answers at it), as its
 * status tells: a True condition whose type names the simulation (e.g. "Simulated",
 * "EndpointSimulated"), or a status message or reason saying so.
 */
export function endpointIsSimulated(vcluster: VCluster | undefined): boolean {
  const status = vcluster?.status;
  if (!status) return false;
  if (status.conditions.some((c) => /simulat/i.test(c.type) && c.status === "True")) return true;
  return /simulat/i.test(status.reason) || /\bsimulated (endpoint|api server)\b/i.test(status.message);
}

export const SIMULATED_NOTE =
  "the endpoint is simulated: no real Kubernetes API server answers at it, so kubectl cannot reach this vcluster";
