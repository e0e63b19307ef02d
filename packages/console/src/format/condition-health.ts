import type { Condition } from "@open-vcluster/api";

export type Health = "good" | "bad" | "neutral";

// Condition types that name a problem or a stopped state: False is the healthy value.
const PROBLEM_TYPES = /^(Suspended|Degraded|Failed|Stalled|Error)$|Pressure$|Unavailable$|Failure$/;

/**
 * Whether a condition is good news, which is not the same as True: "Ready True" is good,
 * "Suspended False" on a running vcluster is good too. A vcluster suspended on purpose is
 * not in trouble, so "Suspended True" (and "Ready False" with it) reads as neutral.
 */
export function conditionHealth(condition: Condition, suspendedOnPurpose: boolean): Health {
  if (condition.status !== "True" && condition.status !== "False") return "neutral";
  const healthyWhenTrue = !PROBLEM_TYPES.test(condition.type);
  const healthy = (condition.status === "True") === healthyWhenTrue;
  if (healthy) return "good";
  if (suspendedOnPurpose && ["Suspended", "Ready", "ControlPlaneReady"].includes(condition.type)) return "neutral";
  return "bad";
}

export const HEALTH_TEXT: Record<Health, string> = { good: "healthy", bad: "unhealthy", neutral: "expected" };
