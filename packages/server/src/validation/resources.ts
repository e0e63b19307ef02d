import type { ResourceRequirements } from "@open-vcluster/api";
import { type FieldViolation, quote } from "./field-violation.js";
import { MAX_QUANTITY, parseQuantity, QuantityError } from "./quantity.js";

type QuantityKind = "cpu" | "bytes";

/** Resource fields as [request, limit, kind] pairs of proto field names and generated property names. */
const RESOURCE_PAIRS: [[string, keyof ResourceRequirements], [string, keyof ResourceRequirements], QuantityKind][] = [
  [["cpu_request", "cpuRequest"], ["cpu_limit", "cpuLimit"], "cpu"],
  [["memory_request", "memoryRequest"], ["memory_limit", "memoryLimit"], "bytes"],
  [
    ["ephemeral_storage_request", "ephemeralStorageRequest"],
    ["ephemeral_storage_limit", "ephemeralStorageLimit"],
    "bytes",
  ],
];

/**
 * Checks one quantity field and returns its value in base units, or undefined when it is empty or
 * invalid (the problem is then recorded).
 */
export function checkQuantity(
  text: string,
  kind: QuantityKind,
  field: string,
  violations: FieldViolation[],
): number | undefined {
  if (text === "") return undefined;
  let value: number;
  try {
    value = parseQuantity(text);
  } catch (error) {
    if (!(error instanceof QuantityError)) throw error;
    violations.push({ field, description: error.message });
    return undefined;
  }
  if (value <= 0) {
    violations.push({ field, description: `must be greater than zero (got ${quote(text)})` });
    return undefined;
  }
  if (kind === "cpu" && value * 1000 >= MAX_QUANTITY) {
    // Kubernetes counts CPU in millicores, which must fit in an int64 as well.
    violations.push({ field, description: `must be below 2^63 millicores (got ${quote(text)})` });
    return undefined;
  }
  if (kind === "cpu" && value < 0.001) {
    violations.push({ field, description: `must be at least 1m (got ${quote(text)})` });
    return undefined;
  }
  if (kind === "bytes" && !Number.isInteger(value)) {
    violations.push({ field, description: `must be a whole number of bytes (got ${quote(text)})` });
    return undefined;
  }
  return value;
}

/** Validates each quantity and that every limit is at least its request when both are set. */
export function validateResources(resources: ResourceRequirements | undefined, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!resources) return violations;
  for (const [[requestName, requestKey], [limitName, limitKey], kind] of RESOURCE_PAIRS) {
    const requestText = resources[requestKey] as string;
    const limitText = resources[limitKey] as string;
    const request = checkQuantity(requestText, kind, `${path}.${requestName}`, violations);
    const limit = checkQuantity(limitText, kind, `${path}.${limitName}`, violations);
    if (request !== undefined && limit !== undefined && limit < request) {
      violations.push({
        field: `${path}.${limitName}`,
        description: `must be greater than or equal to ${requestName} (${limitText} < ${requestText})`,
      });
    }
  }
  return violations;
}
