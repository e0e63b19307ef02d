import { Code, ConnectError } from "@connectrpc/connect";
import { errorDetail } from "@open-vcluster/web";

/** What the console shows about a failed call. */
export interface ErrorDescription {
  message: string;
  /** The request field the server blamed, e.g. "spec.replicas"; "" when none. */
  field: string;
  /** The server's UPPER_SNAKE reason, or the Connect code's name. */
  reason: string;
}

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof ConnectError) {
    const detail = errorDetail(error);
    return {
      message: error.rawMessage || Code[error.code],
      field: detail?.field ?? "",
      reason: detail?.reason || codeName(error.code),
    };
  }
  return { message: error instanceof Error ? error.message : String(error), field: "", reason: "" };
}

function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
