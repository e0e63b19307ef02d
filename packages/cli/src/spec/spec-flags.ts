import { readFile } from "node:fs/promises";
import { create, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { type VClusterSpec, VClusterSpecSchema } from "@open-vcluster/api";
import type { Command } from "commander";
import { integer } from "../command-kit.js";
import { UsageError } from "../errors.js";

type Kind = "string" | "int" | "bool" | "file";

/** One spec flag and the proto path (below spec) it sets. */
interface SpecFlag {
  flag: string;
  /** Commander's attribute name of the flag. */
  key: string;
  path: string;
  kind: Kind;
  description: string;
}

const SPEC_FLAGS: SpecFlag[] = [
  {
    flag: "--kubernetes-version <version>",
    key: "kubernetesVersion",
    path: "kubernetes_version",
    kind: "string",
    description: "Kubernetes version, e.g. 1.34.2",
  },
  {
    flag: "--replicas <n>",
    key: "replicas",
    path: "replicas",
    kind: "int",
    description: "control-plane replicas (1-9; >1 needs an etcd backing store)",
  },
  {
    flag: "--cpu-request <quantity>",
    key: "cpuRequest",
    path: "resources.cpu_request",
    kind: "string",
    description: "control-plane CPU request, e.g. 200m",
  },
  {
    flag: "--cpu-limit <quantity>",
    key: "cpuLimit",
    path: "resources.cpu_limit",
    kind: "string",
    description: "control-plane CPU limit, e.g. 2",
  },
  {
    flag: "--memory-request <quantity>",
    key: "memoryRequest",
    path: "resources.memory_request",
    kind: "string",
    description: "control-plane memory request, e.g. 256Mi",
  },
  {
    flag: "--memory-limit <quantity>",
    key: "memoryLimit",
    path: "resources.memory_limit",
    kind: "string",
    description: "control-plane memory limit, e.g. 4Gi",
  },
  {
    flag: "--ephemeral-storage-request <quantity>",
    key: "ephemeralStorageRequest",
    path: "resources.ephemeral_storage_request",
    kind: "string",
    description: "ephemeral storage request, e.g. 1Gi",
  },
  {
    flag: "--ephemeral-storage-limit <quantity>",
    key: "ephemeralStorageLimit",
    path: "resources.ephemeral_storage_limit",
    kind: "string",
    description: "ephemeral storage limit, e.g. 10Gi",
  },
  {
    flag: "--distro <distro>",
    key: "distro",
    path: "distro",
    kind: "string",
    description: "distribution (only k8s is current)",
  },
  {
    flag: "--isolation-mode <mode>",
    key: "isolationMode",
    path: "isolation_mode",
    kind: "string",
    description: "tenant isolation: full or lite",
  },
  {
    flag: "--enable-ha",
    key: "enableHa",
    path: "enable_ha",
    kind: "bool",
    description: "run the control plane highly available (replicas >= 3)",
  },
  {
    flag: "--helm-values <file>",
    key: "helmValues",
    path: "helm_values",
    kind: "file",
    description: "extra Helm values of the vcluster chart (YAML/JSON file)",
  },
  {
    flag: "--pod-cidr <cidr>",
    key: "podCidr",
    path: "network.pod_cidr",
    kind: "string",
    description: "pod CIDR of the virtual cluster",
  },
  {
    flag: "--service-cidr <cidr>",
    key: "serviceCidr",
    path: "network.service_cidr",
    kind: "string",
    description: "service CIDR of the virtual cluster",
  },
  {
    flag: "--enable-network-policies",
    key: "enableNetworkPolicies",
    path: "network.enable_network_policies",
    kind: "bool",
    description: "enforce NetworkPolicies inside the virtual cluster",
  },
  {
    flag: "--persistence",
    key: "persistence",
    path: "storage.enable_persistence",
    kind: "bool",
    description: "keep the backing store on a persistent volume",
  },
  {
    flag: "--persistence-size <quantity>",
    key: "persistenceSize",
    path: "storage.persistence_size",
    kind: "string",
    description: "size of that volume, e.g. 5Gi",
  },
  {
    flag: "--storage-class <name>",
    key: "storageClass",
    path: "storage.default_storage_class",
    kind: "string",
    description: "default storage class inside the virtual cluster",
  },
];

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
    if (spec.kind === "int") command.option(spec.flag, spec.description, integer(spec.flag.split(" ")[0] ?? ""));
    else command.option(spec.flag, spec.description);
    if (spec.kind === "bool" && options.negatable)
      command.option(`--no-${spec.flag.slice(2)}`, `turn off ${spec.flag}`);
  }
  return command;
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
    let value = values[flag.key];
    if (value === undefined) continue;
    if (flag.kind === "file") {
      try {
        value = await readFile(String(value), "utf8");
      } catch (error) {
        throw new UsageError(`${flag.flag.split(" ")[0]}: cannot read ${String(value)}: ${(error as Error).message}`);
      }
    }
    setPath(spec, flag.path, value);
    paths.push(`spec.${flag.path}`);
  }
  return { spec, paths };
}
