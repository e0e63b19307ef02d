import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";

/** Optional facts attached to an API error's ErrorDetail. */
export interface ApiErrorExtra {
  field?: string;
  metadata?: Record<string, string>;
  retryDelayMs?: number;
}

/**
 * Builds the ConnectError every handler throws. The ErrorDetail travels as a Connect error
 * detail (grpc-status-details-bin for gRPC), so clients can branch on `reason` instead of
 * parsing messages.
 */
export function apiError(code: Code, reason: string, message: string, extra: ApiErrorExtra = {}): ConnectError {
  const detail = create(ErrorDetailSchema, {
    reason,
    field: extra.field ?? "",
    metadata: extra.metadata ?? {},
  });
  if (extra.retryDelayMs !== undefined) {
    detail.retryDelay = durationFromMs(Math.max(0, Math.round(extra.retryDelayMs)));
  }
  return new ConnectError(message, code, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
}

export function notFound(what: string, metadata?: Record<string, string>): ConnectError {
  return apiError(Code.NotFound, "NOT_FOUND", `${what} not found`, metadata ? { metadata } : {});
}

export function failedPrecondition(message: string, metadata?: Record<string, string>): ConnectError {
  return apiError(Code.FailedPrecondition, "FAILED_PRECONDITION", message, metadata ? { metadata } : {});
}

/** Field-level INVALID_ARGUMENT for checks the service makes itself (masks, tokens, ...). */
export function invalidField(field: string, description: string, reason = "INVALID_FIELD"): ConnectError {
  return apiError(Code.InvalidArgument, reason, `${field}: ${description}`, { field });
}
