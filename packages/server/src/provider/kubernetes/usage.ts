import type { V1Pod } from "@kubernetes/client-node";
import type { Observation } from "../types.js";

/** Kubernetes quantity → a plain number (cores for CPU, bytes for memory). */
export function parseQuantity(text: string | undefined): number {
  if (!text) return 0;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(text.trim());
  if (!match) return 0;
  const value = Number(match[1]);
  const suffix = match[2] ?? "";
  const factors: Record<string, number> = {
    "": 1,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  return value * (factors[suffix] ?? 1);
}

export function formatCpu(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

export function formatMemory(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)}Mi`;
}

function live(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";
}

/** Usage as the pods' requests say (what the scheduler reserved), when no metrics API runs. */
export function podUsage(controlPlane: V1Pod[], workloads: V1Pod[]): NonNullable<Observation["usage"]> {
  let cpu = 0;
  let memory = 0;
  const pods = [...controlPlane, ...workloads].filter(live);
  for (const pod of pods) {
    for (const container of pod.spec?.containers ?? []) {
      cpu += parseQuantity(container.resources?.requests?.cpu);
      memory += parseQuantity(container.resources?.requests?.memory);
    }
  }
  return {
    cpuUsage: formatCpu(cpu),
    memoryUsage: formatMemory(memory),
    storageUsage: "",
    podCount: workloads.filter(live).length,
    namespaceCount: 0,
    serviceCount: 0,
  };
}

/** Usage from metrics.k8s.io PodMetrics items (what the pods actually use now). */
export function metricsUsage(
  items: { containers?: { usage?: { cpu?: string; memory?: string } }[] }[],
  workloadPods: number,
): NonNullable<Observation["usage"]> {
  let cpu = 0;
  let memory = 0;
  for (const item of items) {
    for (const container of item.containers ?? []) {
      cpu += parseQuantity(container.usage?.cpu);
      memory += parseQuantity(container.usage?.memory);
    }
  }
  return {
    cpuUsage: formatCpu(cpu),
    memoryUsage: formatMemory(memory),
    storageUsage: "",
    podCount: workloadPods,
    namespaceCount: 0,
    serviceCount: 0,
  };
}
