import { Code, type ConnectError } from "@connectrpc/connect";
import { ErrorReasons } from "@open-vcluster/api";
import { apiError, boundViolation } from "../errors.js";
import type { FieldViolation } from "./field-violation.js";

/** At most this many violations travel in one error; the rest are counted in omitted_violations. */
export const MAX_REPORTED_VIOLATIONS = 100;
/**
 * Reported violations stop once their text adds up to this many bytes, so that an error fits in
 * HTTP/2 trailers (grpc-status-details-bin) that every gRPC client accepts (8 KiB is common).
 */
export const MAX_VIOLATIONS_BYTES = 3072;
/** The message lists violations up to this length; the detail carries every reported one. */
const MESSAGE_BUDGET_CHARS = 512;

/**
 * The INVALID_ARGUMENT error for a failed validation. ErrorDetail.violations carries the
 * violations in the order found (bounded: see the limits above, with omitted_violations saying how
 * many were left out) and ErrorDetail.field names the first. The message lists as many as fit in a
 * short line.
 */
export function invalidArgument(
  violations: readonly FieldViolation[],
  reason: string = ErrorReasons.invalidField,
): ConnectError {
  if (violations.length === 0) throw new RangeError("invalidArgument needs at least one violation");
  const reported: FieldViolation[] = [];
  let bytes = 0;
  for (const v of violations) {
    const violation = boundViolation(v);
    const size = Buffer.byteLength(violation.field) + Buffer.byteLength(violation.description);
    if (reported.length === MAX_REPORTED_VIOLATIONS || (reported.length > 0 && bytes + size > MAX_VIOLATIONS_BYTES))
      break;
    reported.push(violation);
    bytes += size;
  }
  const omittedViolations = violations.length - reported.length;
  const parts: string[] = [];
  let length = 0;
  for (const { field, description } of reported) {
    const part = `${field}: ${description}`;
    if (parts.length > 0 && length + part.length > MESSAGE_BUDGET_CHARS) break;
    parts.push(part);
    length += part.length + 2;
  }
  const unlisted = violations.length - parts.length;
  const message = unlisted > 0 ? `${parts.join("; ")}; and ${unlisted} more (see the error detail)` : parts.join("; ");
  const [first] = reported as [FieldViolation];
  return apiError(Code.InvalidArgument, reason, message, {
    field: first.field,
    violations: reported,
    omittedViolations,
  });
}
