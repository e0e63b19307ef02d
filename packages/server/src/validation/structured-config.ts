import { parseDocument } from "yaml";

/** Helm stores a release in a 1 MiB Secret, so larger values could never be installed. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type ConfigMapping = Record<string, unknown>;

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return `a ${typeof value}`;
}

/**
 * Parses helm values or plugin configuration: YAML or JSON (JSON is YAML) whose top level is a mapping.
 * Empty or blank text is an empty mapping.
 */
export function parseConfigMapping(text: string): { mapping: ConfigMapping } | { problem: string } {
  if (text.length > MAX_CONFIG_BYTES) {
    return { problem: `must be at most ${MAX_CONFIG_BYTES} bytes (got ${text.length})` };
  }
  if (text.trim() === "") return { mapping: {} };
  const document = parseDocument(text);
  const error = document.errors[0];
  if (error) {
    // The first line of a pretty error names the problem and its line and column; the rest is an excerpt.
    const summary = (error.message.split("\n")[0] ?? error.message).replace(/:$/, "");
    return { problem: `must be valid YAML or JSON: ${summary}` };
  }
  let value: unknown;
  try {
    // toJS enforces the alias-expansion limit, which protects against "billion laughs" documents.
    value = document.toJS();
  } catch (cause) {
    return { problem: `must be valid YAML or JSON: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
  if (value === null || value === undefined) return { mapping: {} };
  if (typeof value !== "object" || Array.isArray(value) || value instanceof Map || value instanceof Set) {
    return { problem: `must be a YAML or JSON mapping at the top level (got ${kindOf(value)})` };
  }
  return { mapping: value as ConfigMapping };
}

/** Reads a nested value by keys, e.g. ["controlPlane", "backingStore"]. */
export function valueAt(mapping: ConfigMapping, keys: readonly string[]): unknown {
  let current: unknown = mapping;
  for (const key of keys) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Whether helm values choose etcd (embedded or deployed) as the backing store, which HA needs. */
export function usesEtcdBackingStore(mapping: ConfigMapping): boolean {
  const etcd = ["controlPlane", "backingStore", "etcd"];
  return (
    valueAt(mapping, [...etcd, "embedded", "enabled"]) === true ||
    valueAt(mapping, [...etcd, "deploy", "enabled"]) === true
  );
}
