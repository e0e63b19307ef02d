import type { V1Pod, V1Service, V1StatefulSet } from "@kubernetes/client-node";
import type { Observation, ProviderHelmRelease } from "../types.js";
import type { Helm, HelmRelease } from "./helm.js";
import { isNotFound, type KubeClients, statusCode } from "./kube.js";
import { controlPlaneSelector, kubeconfigSecret, PAUSED, workloadSelector } from "./names.js";
import { metricsUsage, podUsage } from "./usage.js";

/** Everything on the host that makes up one vcluster, read in one go. */
export interface HostState {
  release?: HelmRelease;
  statefulSet?: V1StatefulSet;
  controlPlanePods: V1Pod[];
  workloadPods: V1Pod[];
  service?: V1Service;
  hasKubeconfigSecret: boolean;
  namespaceExists: boolean;
  /** PodMetrics of the control plane and workloads; undefined when the host has no metrics API. */
  metrics?: { items: PodMetrics[] };
}

interface PodMetrics {
  metadata?: { labels?: Record<string, string> };
  containers?: { usage?: { cpu?: string; memory?: string } }[];
}

/** metrics.k8s.io PodMetrics for the selectors, or undefined when no metrics API is served. */
async function podMetrics(
  kube: KubeClients,
  namespace: string,
  selectors: string[],
): Promise<{ items: PodMetrics[] } | undefined> {
  const items: PodMetrics[] = [];
  for (const labelSelector of selectors) {
    try {
      const list = (await kube.custom.listNamespacedCustomObject({
        group: "metrics.k8s.io",
        version: "v1beta1",
        namespace,
        plural: "pods",
        labelSelector,
      })) as { items?: PodMetrics[] };
      items.push(...(list.items ?? []));
    } catch (error) {
      // No metrics API on this host (404), or no permission to read it (403): usage then
      // comes from the pods' requests, and status says so.
      const code = statusCode(error);
      if (code === 404 || code === 403) return undefined;
      throw error;
    }
  }
  return { items };
}

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function readHostState(
  kube: KubeClients,
  helm: Helm,
  namespace: string,
  name: string,
): Promise<HostState> {
  const ns = await orUndefined(kube.core.readNamespace({ name: namespace }));
  if (!ns) return { controlPlanePods: [], workloadPods: [], hasKubeconfigSecret: false, namespaceExists: false };
  const [release, statefulSet, controlPlane, workloads, service, secret, metrics] = await Promise.all([
    helm.status(name, namespace),
    orUndefined(kube.apps.readNamespacedStatefulSet({ name, namespace })),
    kube.core.listNamespacedPod({ namespace, labelSelector: controlPlaneSelector(name) }),
    kube.core.listNamespacedPod({ namespace, labelSelector: workloadSelector(name) }),
    orUndefined(kube.core.readNamespacedService({ name, namespace })),
    orUndefined(kube.core.readNamespacedSecret({ name: kubeconfigSecret(name), namespace })),
    podMetrics(kube, namespace, [controlPlaneSelector(name), workloadSelector(name)]),
  ]);
  return {
    ...(release ? { release } : {}),
    ...(statefulSet ? { statefulSet } : {}),
    controlPlanePods: controlPlane.items,
    workloadPods: workloads.items,
    ...(service ? { service } : {}),
    hasKubeconfigSecret: secret !== undefined,
    namespaceExists: true,
    ...(metrics ? { metrics } : {}),
  };
}

export function helmInfo(release: HelmRelease): ProviderHelmRelease {
  return {
    chartVersion: release.chartVersion,
    appVersion: release.appVersion,
    revision: release.revision,
    status: release.status,
  };
}

/** The URL the virtual API server is reachable at, from the Service the chart made. */
export function endpointOf(service: V1Service | undefined, namespace: string, name: string): string {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  const port = service?.spec?.ports?.find((p) => p.name === "https")?.port ?? service?.spec?.ports?.[0]?.port ?? 443;
  if (service?.spec?.type === "LoadBalancer" && (ingress?.hostname || ingress?.ip))
    return `https://${ingress.hostname || ingress.ip}:${port}`;
  return `https://${name}.${namespace}.svc:${port}`;
}

function crashLooping(pods: V1Pod[]): { pod: string; message: string } | undefined {
  for (const pod of pods) {
    for (const container of pod.status?.containerStatuses ?? []) {
      const waiting = container.state?.waiting;
      if (
        waiting?.reason === "CrashLoopBackOff" ||
        waiting?.reason === "ImagePullBackOff" ||
        waiting?.reason === "ErrImagePull"
      )
        return {
          pod: pod.metadata?.name ?? "",
          message: `${waiting.reason}: container ${container.name}${waiting.message ? `: ${waiting.message}` : ""}`,
        };
    }
  }
  return undefined;
}

/** Turns what is on the host into phase material; never guesses what is not there. */
export function classify(namespace: string, name: string, host: HostState): Observation {
  const base = { namespace, name, readyReplicas: 0, totalReplicas: 0 };
  if (!host.namespaceExists)
    return {
      ...base,
      state: "failed",
      reason: "NamespaceMissing",
      message: `namespace ${namespace} does not exist on the host`,
    };
  if (!host.release)
    return {
      ...base,
      state: "failed",
      reason: "ReleaseMissing",
      message: `Helm release ${name} is not installed in namespace ${namespace}`,
    };
  const helmRelease = helmInfo(host.release);
  const endpoint = endpointOf(host.service, namespace, name);
  const sts = host.statefulSet;
  const desired = sts?.spec?.replicas ?? 0;
  const ready = sts?.status?.readyReplicas ?? 0;
  const usage = host.metrics
    ? metricsUsage(host.metrics.items, host.workloadPods.length)
    : podUsage(host.controlPlanePods, host.workloadPods);
  const usageSource: Observation["usageSource"] = host.metrics ? "metrics" : "requests";
  const seen = { ...base, helmRelease, endpoint, readyReplicas: ready, usage, usageSource };
  if (host.release.status === "failed")
    return { ...seen, state: "failed", reason: "ReleaseFailed", message: `Helm release ${name} is in status failed` };
  if (!sts)
    return {
      ...seen,
      state: "failed",
      reason: "StatefulSetMissing",
      message: `the control-plane StatefulSet ${namespace}/${name} does not exist`,
    };
  const paused = sts.metadata?.annotations?.[PAUSED] === "true";
  if (paused && desired === 0)
    return {
      ...seen,
      totalReplicas: Number(sts.metadata?.annotations?.["loft.sh/paused-replicas"] ?? 0),
      state: "suspended",
      reason: "Suspended",
      message: "The control plane is scaled to zero",
    };
  const crash = crashLooping(host.controlPlanePods);
  if (crash)
    return {
      ...seen,
      totalReplicas: desired,
      state: "failed",
      reason: "ControlPlaneCrashing",
      message: `pod ${crash.pod}: ${crash.message}`,
    };
  if (desired > 0 && ready >= desired && host.release.status === "deployed") {
    if (!host.hasKubeconfigSecret)
      return {
        ...seen,
        totalReplicas: desired,
        state: "starting",
        reason: "KubeconfigPending",
        message: `waiting for the kubeconfig secret ${kubeconfigSecret(name)}`,
      };
    return { ...seen, totalReplicas: desired, state: "running", reason: "Running", message: "The vcluster is running" };
  }
  return {
    ...seen,
    totalReplicas: desired,
    state: "starting",
    reason: "ControlPlaneStarting",
    message: `${ready}/${desired} control-plane replicas ready (release ${host.release.status})`,
  };
}
