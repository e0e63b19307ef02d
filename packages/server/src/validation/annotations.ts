import { validateLabelKey } from "@open-vcluster/core";
import { type FieldViolation, quote } from "./field-violation.js";

/** Kubernetes' limit on the total size of an object's annotations. */
export const MAX_ANNOTATIONS_TOTAL_BYTES = 256 * 1024;

/** Annotation keys follow label-key syntax; values are free-form but bounded in total. */
export function validateAnnotations(annotations: Readonly<Record<string, string>>, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  let totalBytes = 0;
  for (const [key, value] of Object.entries(annotations)) {
    totalBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    const problem = validateLabelKey(key);
    if (problem)
      violations.push({
        field: `${path}[${quote(key)}]`,
        description: problem.replace(/^label key/, "annotation key"),
      });
  }
  if (totalBytes > MAX_ANNOTATIONS_TOTAL_BYTES) {
    violations.push({
      field: path,
      description: `keys and values must total at most ${MAX_ANNOTATIONS_TOTAL_BYTES} bytes (got ${totalBytes})`,
    });
  }
  return violations;
}
