/** A label violation, addressed by the path of the offending entry (e.g. `labels["app"]`). */
export interface LabelViolation {
  field: string;
  description: string;
}

export const MAX_LABELS = 64;
/** Upper bound of the summed UTF-8 size of all keys and values of one object's labels. */
export const MAX_LABELS_TOTAL_BYTES = 16 * 1024;
export const MAX_LABEL_NAME_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 63;
export const MAX_LABEL_PREFIX_LENGTH = 253;

const NAME_PATTERN = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function prefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) return "prefix before '/' must not be empty";
  if (prefix.length > MAX_LABEL_PREFIX_LENGTH) {
    return `prefix must be at most ${MAX_LABEL_PREFIX_LENGTH} characters (got ${prefix.length})`;
  }
  for (const part of prefix.split(".")) {
    if (part.length > 63 || !DNS1123_LABEL_PATTERN.test(part)) {
      return `prefix "${prefix}" must be a DNS-1123 subdomain (lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character)`;
    }
  }
  return undefined;
}

/** Returns what is wrong with a label key, or undefined when it is valid. */
export function validateLabelKey(key: string): string | undefined {
  if (key.length === 0) return "label key must not be empty";
  const slash = key.indexOf("/");
  if (slash !== key.lastIndexOf("/")) return `label key "${key}" must contain at most one '/'`;
  let name = key;
  if (slash >= 0) {
    const problem = prefixProblem(key.slice(0, slash));
    if (problem) return `label key "${key}": ${problem}`;
    name = key.slice(slash + 1);
  }
  if (name.length === 0) return `label key "${key}": name must not be empty`;
  if (name.length > MAX_LABEL_NAME_LENGTH) {
    return `label key "${key}": name must be at most ${MAX_LABEL_NAME_LENGTH} characters (got ${name.length})`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `label key "${key}": name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/** Returns what is wrong with a label value, or undefined when it is valid. Empty values are valid. */
export function validateLabelValue(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > MAX_LABEL_VALUE_LENGTH) {
    return `label value must be at most ${MAX_LABEL_VALUE_LENGTH} characters (got ${value.length})`;
  }
  if (!NAME_PATTERN.test(value)) {
    return `label value "${value}" must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

/** UTF-8 size without TextEncoder typings, so the module stays free of platform-specific globals. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * Validates a whole label map. `path` is the field holding the map (e.g. "labels" or "spec.labels");
 * per-entry problems are reported at `path["key"]`.
 */
export function validateLabels(labels: Readonly<Record<string, string>>, path: string): LabelViolation[] {
  const violations: LabelViolation[] = [];
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) {
    violations.push({ field: path, description: `must have at most ${MAX_LABELS} labels (got ${keys.length})` });
  }
  let totalBytes = 0;
  for (const key of keys) {
    const value = labels[key] ?? "";
    totalBytes += utf8Length(key) + utf8Length(value);
    const field = `${path}[${JSON.stringify(key)}]`;
    const problem = validateLabelKey(key) ?? validateLabelValue(value);
    if (problem) violations.push({ field, description: problem });
  }
  if (totalBytes > MAX_LABELS_TOTAL_BYTES) {
    violations.push({
      field: path,
      description: `keys and values must total at most ${MAX_LABELS_TOTAL_BYTES} bytes (got ${totalBytes})`,
    });
  }
  return violations;
}
