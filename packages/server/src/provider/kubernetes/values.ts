import type { VCluster } from "@open-vcluster/api";
import { parse } from "yaml";

export type Values = Record<string, unknown>;

function isObject(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Helm's own merge rule for values files: maps merge key by key, everything else is replaced. */
export function mergeValues(base: Values, top: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return out;
}

function set(values: Values, path: string[], value: unknown): void {
  let node = values;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isObject(next)) node[key] = {};
    node = node[key] as Values;
  }
  node[path.at(-1) as string] = value;
}

function quantities(entries: [string, string | undefined][]): Values | undefined {
  const out = Object.fromEntries(entries.filter(([, v]) => v));
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The vcluster chart's values for a spec (keys of the chart's values schema), with the
 * user's helm_values merged on top so they always win.
 */
export function renderValues(vcluster: VCluster, extra: { exportServer?: string } = {}): Values {
  const spec = vcluster.spec;
  const values: Values = {};
  const distro = spec?.distro || "k8s";
  set(values, ["controlPlane", "distro", distro, "enabled"], true);
  if (spec?.kubernetesVersion) {
    const version = spec.kubernetesVersion.startsWith("v") ? spec.kubernetesVersion : `v${spec.kubernetesVersion}`;
    set(values, ["controlPlane", "distro", distro, "version"], version);
  }
  const r = spec?.resources;
  const requests = quantities([
    ["cpu", r?.cpuRequest],
    ["memory", r?.memoryRequest],
    ["ephemeral-storage", r?.ephemeralStorageRequest],
  ]);
  const limits = quantities([
    ["cpu", r?.cpuLimit],
    ["memory", r?.memoryLimit],
    ["ephemeral-storage", r?.ephemeralStorageLimit],
  ]);
  if (requests) set(values, ["controlPlane", "statefulSet", "resources", "requests"], requests);
  if (limits) set(values, ["controlPlane", "statefulSet", "resources", "limits"], limits);
  // More than one replica needs an etcd backing store; validation already demands that
  // helm_values choose one, so the replicas go in as asked.
  set(values, ["controlPlane", "statefulSet", "highAvailability", "replicas"], Math.max(1, spec?.replicas || 1));

  const net = spec?.network;
  if (net?.podCidr) set(values, ["networking", "podCIDR"], net.podCidr);
  if (net?.serviceCidr) set(values, ["networking", "serviceCIDR"], net.serviceCidr);
  if (net?.enableNetworkPolicies) set(values, ["policies", "networkPolicy", "enabled"], true);
  if (net?.dns && (net.dns.nameservers.length || net.dns.searches.length || net.dns.options.length)) {
    set(values, ["controlPlane", "statefulSet", "dnsConfig"], {
      ...(net.dns.nameservers.length ? { nameservers: net.dns.nameservers } : {}),
      ...(net.dns.searches.length ? { searches: net.dns.searches } : {}),
      ...(net.dns.options.length ? { options: net.dns.options.map(dnsOption) } : {}),
    });
  }

  const storage = spec?.storage;
  if (storage) {
    const claim = ["controlPlane", "statefulSet", "persistence", "volumeClaim"];
    if (storage.enablePersistence) set(values, [...claim, "enabled"], true);
    if (storage.persistenceSize) set(values, [...claim, "size"], storage.persistenceSize);
    const storageClass = storage.persistenceStorageClass || storage.defaultStorageClass;
    if (storageClass) set(values, [...claim, "storageClass"], storageClass);
  }

  const sync = spec?.sync;
  if (sync) {
    if (sync.syncNodes) set(values, ["sync", "fromHost", "nodes", "enabled"], true);
    if (sync.syncStorageClasses) set(values, ["sync", "fromHost", "storageClasses", "enabled"], true);
    if (sync.syncPersistentVolumes) set(values, ["sync", "toHost", "persistentVolumes", "enabled"], true);
    if (sync.syncIngresses) set(values, ["sync", "toHost", "ingresses", "enabled"], true);
    if (sync.syncPriorityClasses) set(values, ["sync", "toHost", "priorityClasses", "enabled"], true);
    if (sync.syncNetworkPolicies) set(values, ["sync", "toHost", "networkPolicies", "enabled"], true);
    if (sync.syncPodDisruptionBudgets) set(values, ["sync", "toHost", "podDisruptionBudgets", "enabled"], true);
    for (const resource of sync.customResources) {
      set(values, ["sync", "toHost", "customResources", resource], { enabled: true });
    }
  }

  for (const plugin of spec?.plugins ?? []) {
    if (!plugin.enabled) continue;
    const entry: Values = {};
    if (plugin.version) entry.version = plugin.version;
    if (plugin.config) entry.config = parse(plugin.config) ?? {};
    set(values, ["plugins", plugin.name], entry);
  }

  const ingress = spec?.ingress;
  if (ingress?.enabled) {
    set(values, ["controlPlane", "ingress", "enabled"], true);
    if (ingress.hostname) set(values, ["controlPlane", "ingress", "host"], ingress.hostname);
    const annotations: Record<string, string> = { ...ingress.annotations };
    if (ingress.tls?.useCertManager && ingress.tls.issuerName)
      annotations["cert-manager.io/cluster-issuer"] = ingress.tls.issuerName;
    if (Object.keys(annotations).length) set(values, ["controlPlane", "ingress", "annotations"], annotations);
    if (ingress.ingressClass)
      set(values, ["controlPlane", "ingress", "spec", "ingressClassName"], ingress.ingressClass);
    if (ingress.tls?.enabled && ingress.hostname) {
      set(
        values,
        ["controlPlane", "ingress", "spec", "tls"],
        [{ hosts: [ingress.hostname], secretName: ingress.tls.secretName || `${vcluster.name}-tls` }],
      );
    }
  }

  const sa = spec?.serviceAccount;
  if (sa && (sa.name || Object.keys(sa.annotations).length)) {
    const path = ["controlPlane", "advanced", "serviceAccount"];
    set(values, [...path, "enabled"], true);
    if (sa.name) set(values, [...path, "name"], sa.name);
    if (Object.keys(sa.annotations).length) set(values, [...path, "annotations"], { ...sa.annotations });
  }

  if (extra.exportServer) set(values, ["exportKubeConfig", "server"], extra.exportServer);

  const user = spec?.helmValues ? parse(spec.helmValues) : undefined;
  return isObject(user) ? mergeValues(values, user) : values;
}

function dnsOption(option: string): { name: string; value?: string } {
  const [name = option, value] = option.split(":", 2);
  return value === undefined ? { name } : { name, value };
}
