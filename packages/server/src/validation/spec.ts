import type {
  IngressConfig,
  PluginConfig,
  ServiceAccountConfig,
  StorageConfig,
  SyncConfig,
  VClusterSpec,
} from "@open-vcluster/api";
import { validateAnnotations } from "./annotations.js";
import { type FieldViolation, quote } from "./field-violation.js";
import { kubernetesVersionProblem } from "./kubernetes-version.js";
import { dnsLabelProblem, dnsSubdomainProblem, hostnameProblem } from "./names.js";
import { validateNetwork } from "./network.js";
import { checkQuantity, validateResources } from "./resources.js";
import { parseConfigMapping, usesEtcdBackingStore } from "./structured-config.js";

export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 9;
export const MIN_HA_REPLICAS = 3;
export const SUPPORTED_DISTROS: readonly string[] = ["k8s"];
export const LEGACY_DISTROS: readonly string[] = ["k3s", "k0s", "eks"];
export const ISOLATION_MODES: readonly string[] = ["full", "lite"];
const MAX_PLUGIN_VERSION_LENGTH = 128;

export interface SpecValidationOptions {
  /**
   * Skip rules that tie one field to another (HA needs etcd, ingress needs a host name, ...). Used for
   * the fields of an update request, which only make sense once merged into the stored spec; the
   * merged spec is then checked in full.
   */
  partial?: boolean;
}

function validateStorage(storage: StorageConfig | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!storage) return violations;
  checkQuantity(storage.persistenceSize, "bytes", `${path}.persistence_size`, violations);
  for (const [name, value] of [
    ["default_storage_class", storage.defaultStorageClass],
    ["persistence_storage_class", storage.persistenceStorageClass],
  ] as const) {
    const problem = value === "" ? undefined : dnsSubdomainProblem(value);
    if (problem) violations.push({ field: `${path}.${name}`, description: problem });
  }
  return violations;
}

const CUSTOM_RESOURCE =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateSync(sync: SyncConfig | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!sync) return violations;
  const seen = new Map<string, number>();
  for (const [i, resource] of sync.customResources.entries()) {
    const field = `${path}.custom_resources[${i}]`;
    if (resource.length > 253 || !CUSTOM_RESOURCE.test(resource)) {
      violations.push({
        field,
        description: `must be "plural.group" in lowercase, e.g. "certificates.cert-manager.io" (got ${quote(resource)})`,
      });
      continue;
    }
    const first = seen.get(resource);
    if (first !== undefined) {
      violations.push({ field, description: `duplicates ${path}.custom_resources[${first}] (${resource})` });
    } else {
      seen.set(resource, i);
    }
  }
  return violations;
}

function validatePlugins(plugins: readonly PluginConfig[], path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const seen = new Map<string, number>();
  for (const [i, plugin] of plugins.entries()) {
    const base = `${path}[${i}]`;
    if (plugin.name === "") {
      violations.push({ field: `${base}.name`, description: "is required" });
    } else {
      const problem = dnsLabelProblem(plugin.name);
      const first = seen.get(plugin.name);
      if (problem) {
        violations.push({ field: `${base}.name`, description: problem });
      } else if (first !== undefined) {
        violations.push({ field: `${base}.name`, description: `duplicates ${path}[${first}].name (${plugin.name})` });
      } else {
        seen.set(plugin.name, i);
      }
    }
    if (plugin.version.length > MAX_PLUGIN_VERSION_LENGTH || /\s/.test(plugin.version)) {
      violations.push({
        field: `${base}.version`,
        description: `must be at most ${MAX_PLUGIN_VERSION_LENGTH} characters without whitespace`,
      });
    }
    const config = parseConfigMapping(plugin.config);
    if ("problem" in config) violations.push({ field: `${base}.config`, description: config.problem });
  }
  return violations;
}

function validateIngress(ingress: IngressConfig | undefined, path: string, partial: boolean): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!ingress) return violations;
  if (ingress.hostname !== "") {
    const problem = hostnameProblem(ingress.hostname);
    if (problem) violations.push({ field: `${path}.hostname`, description: problem });
  } else if (ingress.enabled && !partial) {
    violations.push({ field: `${path}.hostname`, description: "is required when the ingress is enabled" });
  }
  const ingressClass = ingress.ingressClass === "" ? undefined : dnsSubdomainProblem(ingress.ingressClass);
  if (ingressClass) violations.push({ field: `${path}.ingress_class`, description: ingressClass });
  const tls = ingress.tls;
  if (tls) {
    const secret = tls.secretName === "" ? undefined : dnsSubdomainProblem(tls.secretName);
    if (secret) violations.push({ field: `${path}.tls.secret_name`, description: secret });
    if (tls.issuerName !== "") {
      const issuer = dnsSubdomainProblem(tls.issuerName);
      if (issuer) violations.push({ field: `${path}.tls.issuer_name`, description: issuer });
    } else if (tls.useCertManager && !partial) {
      violations.push({ field: `${path}.tls.issuer_name`, description: "is required when use_cert_manager is set" });
    }
  }
  violations.push(...validateAnnotations(ingress.annotations, `${path}.annotations`));
  return violations;
}

function validateServiceAccount(account: ServiceAccountConfig | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!account) return violations;
  const problem = account.name === "" ? undefined : dnsSubdomainProblem(account.name);
  if (problem) violations.push({ field: `${path}.name`, description: problem });
  violations.push(...validateAnnotations(account.annotations, `${path}.annotations`));
  return violations;
}

function distroProblem(distro: string): string | undefined {
  if (distro === "" || SUPPORTED_DISTROS.includes(distro)) return undefined;
  if (LEGACY_DISTROS.includes(distro)) {
    return `distro "${distro}" is a legacy distribution; current vcluster supports only "k8s"`;
  }
  return `must be "k8s" (got ${quote(distro)})`;
}

function validateHighAvailability(spec: VClusterSpec, path: string, helmUsesEtcd: boolean): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const replicas = spec.replicas === 0 ? MIN_REPLICAS : spec.replicas;
  if (spec.enableHa && replicas < MIN_HA_REPLICAS) {
    violations.push({
      field: `${path}.replicas`,
      description: `must be at least ${MIN_HA_REPLICAS} when enable_ha is set (got ${replicas})`,
    });
  }
  if ((replicas > 1 || spec.enableHa) && !helmUsesEtcd) {
    violations.push({
      field: `${path}.replicas`,
      description:
        "running more than one control-plane replica needs an etcd backing store: set controlPlane.backingStore.etcd.embedded.enabled (or etcd.deploy.enabled) to true in helm_values, because the default embedded SQLite store cannot run highly available",
    });
  }
  return violations;
}

/**
 * Validates a spec. Empty fields are valid (they take defaults), so this checks both create requests
 * and specs that already had defaults applied.
 */
export function validateSpec(spec: VClusterSpec, path = "spec", options: SpecValidationOptions = {}): FieldViolation[] {
  const partial = options.partial ?? false;
  const violations: FieldViolation[] = [];
  if (spec.kubernetesVersion !== "") {
    const problem = kubernetesVersionProblem(spec.kubernetesVersion);
    if (problem) violations.push({ field: `${path}.kubernetes_version`, description: problem });
  }
  violations.push(...validateResources(spec.resources, `${path}.resources`));
  if (spec.replicas !== 0 && (spec.replicas < MIN_REPLICAS || spec.replicas > MAX_REPLICAS)) {
    violations.push({
      field: `${path}.replicas`,
      description: `must be between ${MIN_REPLICAS} and ${MAX_REPLICAS} (got ${spec.replicas})`,
    });
  }
  violations.push(...validateNetwork(spec.network, `${path}.network`));
  violations.push(...validateStorage(spec.storage, `${path}.storage`));
  const distro = distroProblem(spec.distro);
  if (distro) violations.push({ field: `${path}.distro`, description: distro });
  const helm = parseConfigMapping(spec.helmValues);
  if ("problem" in helm) violations.push({ field: `${path}.helm_values`, description: helm.problem });
  if (!partial) {
    violations.push(...validateHighAvailability(spec, path, "mapping" in helm && usesEtcdBackingStore(helm.mapping)));
  }
  violations.push(...validateSync(spec.sync, `${path}.sync`));
  violations.push(...validatePlugins(spec.plugins, `${path}.plugins`));
  violations.push(...validateIngress(spec.ingress, `${path}.ingress`, partial));
  violations.push(...validateServiceAccount(spec.serviceAccount, `${path}.service_account`));
  if (spec.isolationMode !== "" && !ISOLATION_MODES.includes(spec.isolationMode)) {
    violations.push({
      field: `${path}.isolation_mode`,
      description: `must be "full" or "lite" (got ${quote(spec.isolationMode)})`,
    });
  }
  return violations;
}
