import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConditionSchema, type VClusterStatus } from "@open-vcluster/api";

export type ConditionStatus = "True" | "False" | "Unknown";

/**
 * Sets a condition the Kubernetes way: last_transition_time moves only when the status
 * changes; last_probe_time records every check.
 */
export function setCondition(
  status: VClusterStatus,
  type: string,
  value: ConditionStatus,
  reason: string,
  message: string,
  now: Date,
): void {
  const existing = status.conditions.find((c) => c.type === type);
  const stamp = timestampFromDate(now);
  if (existing) {
    if (existing.status !== value) existing.lastTransitionTime = stamp;
    existing.status = value;
    existing.reason = reason;
    existing.message = message;
    existing.lastProbeTime = stamp;
    return;
  }
  status.conditions.push(
    create(ConditionSchema, { type, status: value, reason, message, lastTransitionTime: stamp, lastProbeTime: stamp }),
  );
}

/** Ready, ControlPlaneReady and Suspended at once, so they never contradict each other. */
export function setLifecycleConditions(
  status: VClusterStatus,
  state: { ready: ConditionStatus; controlPlane: ConditionStatus; suspended: ConditionStatus },
  reason: string,
  message: string,
  now: Date,
): void {
  setCondition(status, "Ready", state.ready, reason, message, now);
  setCondition(status, "ControlPlaneReady", state.controlPlane, reason, message, now);
  setCondition(status, "Suspended", state.suspended, reason, message, now);
}

/**
 * Says in status that the vcluster's API server endpoint is simulated, so people and tools know
 * why kubectl cannot connect although the kubeconfig is valid.
 */
export function markEndpointSimulated(status: VClusterStatus, now: Date): void {
  setCondition(
    status,
    "EndpointSimulated",
    "True",
    "SimulatedProvider",
    `Simulated: no API server listens at ${status.apiServerEndpoint || "the endpoint"}; kubeconfigs carry real certificates from the server's CA, so kubectl reads them but cannot connect`,
    now,
  );
}
