import { Code, type ConnectError } from "@connectrpc/connect";
import { apiError } from "../errors.js";
import type { FieldViolation } from "./field-violation.js";

/**
 * The INVALID_ARGUMENT error for a failed validation. The message and ErrorDetail.field name the first
 * violation; metadata.violations carries all of them as JSON `[{field, description}]`.
 */
export function invalidArgument(violations: readonly FieldViolation[]): ConnectError {
  const [first] = violations;
  if (!first) throw new RangeError("invalidArgument needs at least one violation");
  const more = violations.length > 1 ? `; and ${violations.length - 1} more` : "";
  return apiError(Code.InvalidArgument, "INVALID_FIELD", `${first.field}: ${first.description}${more}`, {
    field: first.field,
    metadata: {
      violations: JSON.stringify(violations.map(({ field, description }) => ({ field, description }))),
    },
  });
}
