import { createHash } from "node:crypto";
import type { VCluster } from "@open-vcluster/api";
import { formatQuantity, parseQuantity } from "../validation/index.js";
import type { ProviderResult } from "./types.js";

type Usage = NonNullable<ProviderResult["usage"]>;

/** A stable number in [0, 1) derived from the vcluster id, so figures never jitter between reads. */
function unitHash(id: string, salt: string): number {
  const digest = createHash("sha256").update(`${salt}:${id}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

function quantityOr(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  try {
    return parseQuantity(text);
  } catch {
    return fallback;
  }
}

/**
 * Usage of a running vcluster: a stable fraction of what its spec requests, scaled by replicas,
 * plus object counts that grow with the features it syncs.
 */
export function simulatedUsage(vcluster: VCluster): Usage {
  const spec = vcluster.spec;
  const replicas = Math.max(1, spec?.replicas ?? 1);
  const cpuRequest = quantityOr(spec?.resources?.cpuRequest, 0.2);
  const memoryRequest = quantityOr(spec?.resources?.memoryRequest, 256 * 1024 ** 2);
  const storageBase = spec?.storage?.enablePersistence
    ? quantityOr(spec.storage.persistenceSize, 5 * 1024 ** 3)
    : quantityOr(spec?.resources?.ephemeralStorageRequest, 1024 ** 3);
  const cpu = cpuRequest * replicas * (0.3 + 0.4 * unitHash(vcluster.id, "cpu"));
  const memory = memoryRequest * replicas * (0.4 + 0.4 * unitHash(vcluster.id, "memory"));
  const storage = storageBase * (0.05 + 0.2 * unitHash(vcluster.id, "storage"));
  const syncExtras = spec?.sync ? Object.values(spec.sync).filter((v) => v === true).length : 0;
  const plugins = spec?.plugins?.filter((p) => p.enabled).length ?? 0;
  return {
    cpuUsage: formatQuantity(Math.max(0.001, cpu), "cpu"),
    memoryUsage: formatQuantity(Math.round(memory), "bytes"),
    storageUsage: formatQuantity(Math.round(storage), "bytes"),
    // coredns + control plane pods + one per plugin, plus a stable handful of workloads.
    podCount: 1 + replicas + plugins + Math.floor(8 * unitHash(vcluster.id, "pods")),
    namespaceCount: 4 + Math.floor(4 * unitHash(vcluster.id, "namespaces")),
    serviceCount: 2 + syncExtras + Math.floor(5 * unitHash(vcluster.id, "services")),
  };
}

/** Usage of a suspended vcluster: nothing runs, only the persisted backing store remains. */
export function suspendedUsage(running: Usage): Usage {
  return { ...running, cpuUsage: "0", memoryUsage: "0", podCount: 0 };
}
