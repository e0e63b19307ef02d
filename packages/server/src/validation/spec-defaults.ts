import { clone, create } from "@bufbuild/protobuf";
import { ResourceRequirementsSchema, type VClusterSpec, VClusterSpecSchema } from "@open-vcluster/api";
import { DEFAULT_KUBERNETES_VERSION, normalizeKubernetesVersion } from "./kubernetes-version.js";
import { parseQuantity } from "./quantity.js";

export const DEFAULT_RESOURCES = Object.freeze({
  cpuRequest: "200m",
  memoryRequest: "256Mi",
  ephemeralStorageRequest: "1Gi",
  memoryLimit: "4Gi",
  ephemeralStorageLimit: "10Gi",
});
export const DEFAULT_PERSISTENCE_SIZE = "5Gi";
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_DISTRO = "k8s";

function quantityOrUndefined(text: string): number | undefined {
  try {
    return text === "" ? undefined : parseQuantity(text);
  } catch {
    return undefined;
  }
}

/**
 * Fills an unset request/limit pair without creating a conflict: a default request above a given
 * limit becomes the limit (as Kubernetes defaults requests to limits), and a default limit below a
 * given request becomes the request.
 */
function defaultPair(
  request: string,
  limit: string,
  defaultRequest: string | undefined,
  defaultLimit: string | undefined,
): [string, string] {
  let nextRequest = request;
  let nextLimit = limit;
  if (nextRequest === "" && defaultRequest !== undefined) {
    const given = quantityOrUndefined(limit);
    nextRequest = given !== undefined && given < parseQuantity(defaultRequest) ? limit : defaultRequest;
  }
  if (nextLimit === "" && defaultLimit !== undefined) {
    const given = quantityOrUndefined(nextRequest);
    nextLimit = given !== undefined && given > parseQuantity(defaultLimit) ? nextRequest : defaultLimit;
  }
  return [nextRequest, nextLimit];
}

/** Returns a copy of the spec with the server's defaults in every unset field that has one. */
export function applySpecDefaults(spec: VClusterSpec | undefined): VClusterSpec {
  const result = spec ? clone(VClusterSpecSchema, spec) : create(VClusterSpecSchema);
  const resources = result.resources ?? create(ResourceRequirementsSchema);
  [resources.cpuRequest, resources.cpuLimit] = defaultPair(
    resources.cpuRequest,
    resources.cpuLimit,
    DEFAULT_RESOURCES.cpuRequest,
    undefined,
  );
  [resources.memoryRequest, resources.memoryLimit] = defaultPair(
    resources.memoryRequest,
    resources.memoryLimit,
    DEFAULT_RESOURCES.memoryRequest,
    DEFAULT_RESOURCES.memoryLimit,
  );
  [resources.ephemeralStorageRequest, resources.ephemeralStorageLimit] = defaultPair(
    resources.ephemeralStorageRequest,
    resources.ephemeralStorageLimit,
    DEFAULT_RESOURCES.ephemeralStorageRequest,
    DEFAULT_RESOURCES.ephemeralStorageLimit,
  );
  result.resources = resources;
  if (result.storage?.enablePersistence && result.storage.persistenceSize === "") {
    result.storage.persistenceSize = DEFAULT_PERSISTENCE_SIZE;
  }
  if (result.replicas === 0) result.replicas = DEFAULT_REPLICAS;
  if (result.distro === "") result.distro = DEFAULT_DISTRO;
  result.kubernetesVersion =
    result.kubernetesVersion === "" ? DEFAULT_KUBERNETES_VERSION : normalizeKubernetesVersion(result.kubernetesVersion);
  return result;
}
