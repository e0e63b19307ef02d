import { ConnectError } from "@connectrpc/connect";
import { type ErrorDetail, ErrorDetailSchema } from "@open-vcluster/api";

/** One invalid request field and what is wrong with it. */
export interface ApiFieldViolation {
  /** Path of the field in the request, in the proto's spelling, e.g. "spec.resources.cpu_request". */
  field: string;
  /** What is wrong with the value, for people. */
  description: string;
}

/** The server's machine-readable error detail, decoded into plain values. */
export interface ApiErrorDetail {
  /** Stable UPPER_SNAKE_CASE reason, e.g. "NOT_FOUND" or "RESOURCE_VERSION_EXPIRED". */
  reason: string;
  /** Path of the offending request field, e.g. "spec.replicas"; "" when there is none. */
  field: string;
  metadata: Record<string, string>;
  /** How long the server asks the client to wait before retrying, in milliseconds. */
  retryDelayMs: number | undefined;
  /**
   * Every problem the server found in the request, in the order found (empty for errors that
   * are not about the request's content). The first one is also in `field`.
   */
  violations: ApiFieldViolation[];
  /** How many further violations the server left out of `violations` to keep the error small. */
  omittedViolations: number;
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
    violations: detail.violations.map((v) => ({ field: v.field, description: v.description })),
    omittedViolations: detail.omittedViolations,
  };
}
