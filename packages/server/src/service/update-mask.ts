import { clone, create, type DescField, type DescMessage, equals } from "@bufbuild/protobuf";
import { type UpdateVClusterRequest, type VCluster, type VClusterSpec, VClusterSpecSchema } from "@open-vcluster/api";
import { invalidField } from "../errors.js";

/** Fields of VCluster the server maintains; naming them in a mask is an error (AIP-161). */
const OUTPUT_ONLY = new Set([
  "id",
  "name",
  "namespace",
  "status",
  "annotations",
  "create_time",
  "update_time",
  "delete_time",
  "owner",
  "project",
]);

type AnyMessage = Record<string, unknown>;

/**
 * Resolves a path below "spec" to its chain of field descriptors; only singular message fields
 * can be descended into (lists and maps are replaced whole, as AIP-161 prescribes).
 */
function resolveSpecPath(segments: string[], field: string): DescField[] {
  const chain: DescField[] = [];
  let message: DescMessage = VClusterSpecSchema;
  segments.forEach((segment, i) => {
    const desc = message.fields.find((f) => f.name === segment);
    if (!desc) throw invalidField(field, `unknown field "${segments.slice(0, i + 1).join(".")}" in spec`);
    chain.push(desc);
    if (i < segments.length - 1) {
      if (desc.fieldKind !== "message") throw invalidField(field, `"${segment}" has no sub-fields`);
      message = desc.message;
    }
  });
  return chain;
}

function isPopulated(desc: DescField, value: unknown): boolean {
  switch (desc.fieldKind) {
    case "list":
      return Array.isArray(value) && value.length > 0;
    case "map":
      return value !== undefined && Object.keys(value as object).length > 0;
    case "message":
      return value !== undefined;
    default:
      return value !== undefined && value !== "" && value !== 0 && value !== false && value !== 0n;
  }
}

/** Leaf paths of every populated field, for requests without a mask ("omitted = populated"). */
function populatedPaths(message: DescMessage, value: AnyMessage, prefix: string): string[] {
  const paths: string[] = [];
  for (const desc of message.fields) {
    const fieldValue = value[desc.localName];
    if (!isPopulated(desc, fieldValue)) continue;
    if (desc.fieldKind === "message") {
      const nested = populatedPaths(desc.message, fieldValue as AnyMessage, `${prefix}.${desc.name}`);
      // An explicitly set but empty message still means "set this to empty".
      paths.push(...(nested.length > 0 ? nested : [`${prefix}.${desc.name}`]));
    } else {
      paths.push(`${prefix}.${desc.name}`);
    }
  }
  return paths;
}

function copyPath(target: AnyMessage, source: AnyMessage | undefined, chain: DescField[]): void {
  let to = target;
  let from = source;
  for (const [i, desc] of chain.entries()) {
    const key = desc.localName;
    if (i === chain.length - 1) {
      const value = from?.[key];
      if (desc.fieldKind === "message") {
        to[key] = value === undefined ? undefined : clone(desc.message, value as never);
      } else if (desc.fieldKind === "list") {
        to[key] = [...((value as unknown[]) ?? [])];
      } else if (desc.fieldKind === "map") {
        to[key] = { ...((value as object) ?? {}) };
      } else {
        // Unset in the request means the field's zero value; defaults are applied afterwards.
        to[key] = value ?? zeroOf(desc);
      }
      return;
    }
    if (desc.fieldKind !== "message") return;
    if (to[key] === undefined) to[key] = create(desc.message);
    to = to[key] as AnyMessage;
    from = from?.[key] as AnyMessage | undefined;
  }
}

function zeroOf(desc: DescField): unknown {
  const probe = create(desc.parent) as unknown as AnyMessage;
  return probe[desc.localName];
}

export interface MaskedUpdate {
  spec: VClusterSpec;
  labels: Record<string, string>;
  specChanged: boolean;
  labelsChanged: boolean;
  paths: string[];
}

/**
 * Applies an update per AIP-134/161: paths are relative to VCluster ("spec.replicas",
 * "spec.resources.cpu_request", "labels"); "*" replaces spec and labels; an omitted mask
 * means every populated field of the request. Output-only and unknown paths are rejected.
 */
export function applyUpdateMask(current: VCluster, req: UpdateVClusterRequest): MaskedUpdate {
  const spec = clone(VClusterSpecSchema, current.spec ?? create(VClusterSpecSchema));
  let labels = { ...current.labels };
  let paths = req.updateMask?.paths ?? [];
  const explicit = paths.length > 0;
  if (!explicit) {
    paths = req.spec ? populatedPaths(VClusterSpecSchema, req.spec as unknown as AnyMessage, "spec") : [];
    if (Object.keys(req.labels).length > 0) paths.push("labels");
    if (paths.length === 0) throw invalidField("update_mask", "the request sets no field to update");
  }
  for (const [i, path] of paths.entries()) {
    const field = explicit ? `update_mask.paths[${i}]` : "update_mask";
    if (path === "*") {
      if (paths.length > 1) throw invalidField(field, `"*" must be the only path`);
      const replaced = clone(VClusterSpecSchema, req.spec ?? create(VClusterSpecSchema));
      return finish(current, replaced, { ...req.labels }, ["*"]);
    }
    const [head, ...rest] = path.split(".");
    if (head === "labels" && rest.length === 0) {
      labels = { ...req.labels };
      continue;
    }
    if (head === "labels") throw invalidField(field, `"${path}": labels are replaced as a whole; use "labels"`);
    if (head === "spec" && rest.length === 0) {
      Object.assign(spec, clone(VClusterSpecSchema, req.spec ?? create(VClusterSpecSchema)));
      continue;
    }
    if (head === "spec") {
      copyPath(
        spec as unknown as AnyMessage,
        req.spec as unknown as AnyMessage | undefined,
        resolveSpecPath(rest, field),
      );
      continue;
    }
    if (head !== undefined && OUTPUT_ONLY.has(head))
      throw invalidField(field, `"${path}" is output only and cannot be updated`);
    throw invalidField(
      field,
      `unknown path "${path}"; paths are relative to VCluster, e.g. "spec.replicas" or "labels"`,
    );
  }
  return finish(current, spec, labels, paths);
}

function finish(current: VCluster, spec: VClusterSpec, labels: Record<string, string>, paths: string[]): MaskedUpdate {
  const before = current.spec ?? create(VClusterSpecSchema);
  return {
    spec,
    labels,
    paths,
    specChanged: !equals(VClusterSpecSchema, before, spec),
    labelsChanged: !sameLabels(current.labels, labels),
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => b[k] === a[k]);
}
