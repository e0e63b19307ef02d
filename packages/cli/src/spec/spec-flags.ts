import { readFile } from "node:fs/promises";
import { create, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { type VClusterSpec, VClusterSpecSchema } from "@open-vcluster/api";
import { type Command, Option } from "commander";
import { integer } from "../command-kit.js";
import { UsageError } from "../errors.js";

type Kind = "string" | "int" | "bool" | "file" | "list" | "map";

/** One spec flag and the proto path (below spec) it sets. */
interface SpecFlag {
  /** Flag and value name, e.g. "--cpu-request <quantity>"; named after the API field. */
  flag: string;
  path: string;
  kind: Kind;
  description: string;
  /** An older spelling that still works, hidden from help. */
  alias?: string;
}

const f = (flag: string, path: string, kind: Kind, description: string, alias?: string): SpecFlag => ({
  flag,
  path,
  kind,
  description,
  ...(alias ? { alias } : {}),
});

const SPEC_FLAGS: SpecFlag[] = [
  f("--kubernetes-version <version>", "kubernetes_version", "string", "Kubernetes version, e.g. 1.34.2"),
  f("--replicas <n>", "replicas", "int", "control-plane replicas (1-9; >1 needs an etcd backing store)"),
  f("--cpu-request <quantity>", "resources.cpu_request", "string", "control-plane CPU request, e.g. 200m"),
  f("--cpu-limit <quantity>", "resources.cpu_limit", "string", "control-plane CPU limit, e.g. 2"),
  f("--memory-request <quantity>", "resources.memory_request", "string", "control-plane memory request, e.g. 256Mi"),
  f("--memory-limit <quantity>", "resources.memory_limit", "string", "control-plane memory limit, e.g. 4Gi"),
  f(
    "--ephemeral-storage-request <quantity>",
    "resources.ephemeral_storage_request",
    "string",
    "ephemeral storage request, e.g. 1Gi",
  ),
  f(
    "--ephemeral-storage-limit <quantity>",
    "resources.ephemeral_storage_limit",
    "string",
    "ephemeral storage limit, e.g. 10Gi",
  ),
  f("--distro <distro>", "distro", "string", "distribution (only k8s is current)"),
  f("--isolation-mode <mode>", "isolation_mode", "string", "tenant isolation: full or lite"),
  f("--enable-ha", "enable_ha", "bool", "run the control plane highly available (replicas >= 3)"),
  f("--helm-values <file>", "helm_values", "file", "extra Helm values of the vcluster chart (YAML/JSON file)"),
  f("--pod-cidr <cidr>", "network.pod_cidr", "string", "pod CIDR of the virtual cluster"),
  f("--service-cidr <cidr>", "network.service_cidr", "string", "service CIDR of the virtual cluster"),
  f(
    "--enable-network-policies",
    "network.enable_network_policies",
    "bool",
    "enforce NetworkPolicies inside the virtual cluster",
  ),
  f("--dns-service-ip <ip>", "network.dns_service_ip", "string", "cluster DNS service IP (inside the service CIDR)"),
  f("--dns-nameserver <ip>", "network.dns.nameservers", "list", "DNS nameserver (repeatable)"),
  f("--dns-search <domain>", "network.dns.searches", "list", "DNS search domain (repeatable)"),
  f("--dns-option <option>", "network.dns.options", "list", "DNS resolver option, e.g. ndots:2 (repeatable)"),
  f(
    "--enable-persistence",
    "storage.enable_persistence",
    "bool",
    "keep the backing store on a persistent volume",
    "--persistence",
  ),
  f("--persistence-size <quantity>", "storage.persistence_size", "string", "size of that volume, e.g. 5Gi"),
  f(
    "--persistence-storage-class <name>",
    "storage.persistence_storage_class",
    "string",
    "storage class of that volume",
  ),
  f(
    "--default-storage-class <name>",
    "storage.default_storage_class",
    "string",
    "default storage class inside the virtual cluster",
    "--storage-class",
  ),
  f("--sync-nodes", "sync.sync_nodes", "bool", "sync real nodes from the host instead of fake ones"),
  f("--sync-persistent-volumes", "sync.sync_persistent_volumes", "bool", "sync PersistentVolumes"),
  f("--sync-storage-classes", "sync.sync_storage_classes", "bool", "sync StorageClasses"),
  f("--sync-ingresses", "sync.sync_ingresses", "bool", "sync Ingresses"),
  f("--sync-priority-classes", "sync.sync_priority_classes", "bool", "sync PriorityClasses"),
  f("--sync-network-policies", "sync.sync_network_policies", "bool", "sync NetworkPolicies"),
  f("--sync-pod-disruption-budgets", "sync.sync_pod_disruption_budgets", "bool", "sync PodDisruptionBudgets"),
  f(
    "--sync-custom-resource <plural.group>",
    "sync.custom_resources",
    "list",
    "custom resource to sync, e.g. certificates.cert-manager.io (repeatable)",
  ),
  f("--ingress-enabled", "ingress.enabled", "bool", "expose the virtual API server through an Ingress"),
  f("--ingress-class <name>", "ingress.ingress_class", "string", "IngressClass of that Ingress"),
  f("--ingress-hostname <host>", "ingress.hostname", "string", "host name of that Ingress"),
  f("--ingress-annotation <key=value>", "ingress.annotations", "map", "annotation of that Ingress (repeatable)"),
  f("--ingress-tls-enabled", "ingress.tls.enabled", "bool", "terminate TLS at the Ingress"),
  f("--ingress-tls-secret-name <name>", "ingress.tls.secret_name", "string", "Secret holding the certificate"),
  f("--ingress-tls-use-cert-manager", "ingress.tls.use_cert_manager", "bool", "let cert-manager issue the certificate"),
  f("--ingress-tls-issuer-name <name>", "ingress.tls.issuer_name", "string", "cert-manager issuer name"),
  f("--service-account-name <name>", "service_account.name", "string", "service account the control plane runs as"),
  f(
    "--service-account-annotation <key=value>",
    "service_account.annotations",
    "map",
    "annotation of that service account (repeatable)",
  ),
  f("--service-account-automount-token", "service_account.automount_token", "bool", "automount its token"),
];

function longName(flag: string): string {
  return flag.split(" ")[0] ?? flag;
}

/** Commander's attribute name of a flag: "--cpu-request" → "cpuRequest". */
function attributeOf(flag: string): string {
  return longName(flag)
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The flag that sets a request field, e.g. "spec.resources.cpu_request" → "--cpu-request". */
export function specFlagFor(field: string): string | undefined {
  const path = field.replace(/^spec\./, "").replace(/\[.*$/, "");
  return SPEC_FLAGS.find((flag) => flag.path === path)?.flag.split(" ")[0];
}

const SCALE_PATHS = new Set(["replicas", "resources"]);

function isScaleFlag(flag: SpecFlag): boolean {
  return SCALE_PATHS.has(flag.path.split(".")[0] ?? "");
}

/**
 * Adds the spec flags. `negatable` adds `--no-<flag>` for booleans, so an update can turn a
 * feature off; on create an absent flag already means off.
 */
export function addSpecOptions(command: Command, options: { negatable?: boolean; scaleOnly?: boolean } = {}): Command {
  for (const spec of SPEC_FLAGS) {
    if (options.scaleOnly && !isScaleFlag(spec)) continue;
    const name = longName(spec.flag);
    if (spec.kind === "int") command.option(spec.flag, spec.description, integer(name));
    else if (spec.kind === "list" || spec.kind === "map") command.option(spec.flag, spec.description, collect);
    else command.option(spec.flag, spec.description);
    const value = spec.flag.slice(name.length);
    if (spec.alias) command.addOption(new Option(`${spec.alias}${value}`).hideHelp());
    if (spec.kind === "bool" && options.negatable) {
      command.option(`--no-${name.slice(2)}`, `turn off ${name}`);
      if (spec.alias) command.addOption(new Option(`--no-${spec.alias.slice(2)}`).hideHelp());
    }
  }
  return command;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function mapOf(values: string[], flag: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const text of values) {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: expected key=value, got "${text}"`);
    map[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return map;
}

function fieldByName(message: DescMessage, name: string): DescField {
  const field = message.fields.find((f) => f.name === name);
  if (!field) throw new Error(`VClusterSpec has no field ${name}`);
  return field;
}

/** Sets a value at a proto path, creating the messages on the way. */
function setPath(spec: VClusterSpec, path: string, value: unknown): void {
  const segments = path.split(".");
  let message: DescMessage = VClusterSpecSchema;
  let target = spec as unknown as Record<string, unknown>;
  for (const [i, segment] of segments.entries()) {
    const field = fieldByName(message, segment);
    if (i === segments.length - 1) {
      target[field.localName] = value;
      return;
    }
    if (field.fieldKind !== "message") throw new Error(`${segment} is not a message`);
    target[field.localName] ??= create(field.message);
    target = target[field.localName] as Record<string, unknown>;
    message = field.message;
  }
}

export interface SpecFromFlags {
  spec: VClusterSpec;
  /** Update-mask paths (relative to VCluster) of every flag given. */
  paths: string[];
}

/**
 * Writes what the flags describe into `spec` (a fresh one by default; a file's spec when
 * flags override it field by field); `values` are commander's parsed options.
 */
export async function applySpecFlags(
  values: Record<string, unknown>,
  spec: VClusterSpec = create(VClusterSpecSchema),
): Promise<SpecFromFlags> {
  const paths: string[] = [];
  for (const flag of SPEC_FLAGS) {
    const name = longName(flag.flag);
    let value = values[attributeOf(flag.flag)] ?? (flag.alias ? values[attributeOf(flag.alias)] : undefined);
    if (value === undefined) continue;
    if (flag.kind === "file") {
      try {
        value = await readFile(String(value), "utf8");
      } catch (error) {
        throw new UsageError(`${name}: cannot read ${String(value)}: ${(error as Error).message}`);
      }
    }
    if (flag.kind === "map") value = mapOf(value as string[], name);
    setPath(spec, flag.path, value);
    paths.push(`spec.${flag.path}`);
  }
  return { spec, paths };
}
