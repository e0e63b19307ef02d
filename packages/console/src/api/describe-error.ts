import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";
import { errorDetail } from "@open-vcluster/web";
import { withPhaseLabels } from "../format/phase.js";

/** One request field the server refused, and why. */
export interface Violation {
  field: string;
  description: string;
}

/** What the console shows about a failed call. */
export interface ErrorDescription {
  message: string;
  /** The request field the server blamed, e.g. "spec.replicas"; "" when none. */
  field: string;
  /** The server's UPPER_SNAKE reason, or the Connect code's name. */
  reason: string;
  /** Every field the server refused (ErrorDetail.violations); the first is `field`. */
  violations: Violation[];
  /** How many more the server found but left out. */
  omittedViolations: number;
}

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof ConnectError) {
    const detail = errorDetail(error);
    // Read from the proto itself: every violation, not only the first field.
    const [raw] = error.findDetails(ErrorDetailSchema);
    const violations = (raw?.violations ?? []).map((v) => ({
      field: v.field,
      description: withPhaseLabels(v.description),
    }));
    const field = detail?.field ?? "";
    const message = withPhaseLabels(error.rawMessage);
    return {
      message: message || Code[error.code],
      field,
      reason: detail?.reason || codeName(error.code),
      violations: violations.length > 0 || !field ? violations : [{ field, description: message }],
      omittedViolations: raw?.omittedViolations ?? 0,
    };
  }
  return {
    message: error instanceof Error ? error.message : String(error),
    field: "",
    reason: "",
    violations: [],
    omittedViolations: 0,
  };
}

function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
