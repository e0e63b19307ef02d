import { ConnectError } from "@connectrpc/connect";
import { type ErrorDetail, ErrorDetailSchema } from "@open-vcluster/api";

/** The server's machine-readable error detail, decoded into plain values. */
export interface ApiErrorDetail {
  /** Stable UPPER_SNAKE_CASE reason, e.g. "NOT_FOUND" or "RESOURCE_VERSION_EXPIRED". */
  reason: string;
  /** Path of the offending request field, e.g. "spec.replicas"; "" when there is none. */
  field: string;
  metadata: Record<string, string>;
  /** How long the server asks the client to wait before retrying, in milliseconds. */
  retryDelayMs: number | undefined;
}

/** Decodes the ErrorDetail the server attaches to its errors; undefined for other errors. */
export function errorDetail(error: unknown): ApiErrorDetail | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  const [detail] = error.findDetails(ErrorDetailSchema);
  return detail ? toApiErrorDetail(detail) : undefined;
}

function toApiErrorDetail(detail: ErrorDetail): ApiErrorDetail {
  const delay = detail.retryDelay;
  return {
    reason: detail.reason,
    field: detail.field,
    metadata: { ...detail.metadata },
    retryDelayMs: delay ? Number(delay.seconds) * 1000 + Math.floor(delay.nanos / 1_000_000) : undefined,
  };
}
