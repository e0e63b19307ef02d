import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema, ErrorReasons } from "@open-vcluster/api";
import type { FieldViolation } from "./validation/field-violation.js";

/** Longest error message the server sends; longer ones are cut (the detail keeps the structure). */
export const MAX_ERROR_MESSAGE_CHARS = 1024;

/** Field paths and descriptions of violations are cut to this many characters each. */
export const MAX_VIOLATION_TEXT_CHARS = 256;

function cut(text: string): string {
  return text.length <= MAX_VIOLATION_TEXT_CHARS ? text : `${text.slice(0, MAX_VIOLATION_TEXT_CHARS - 1)}…`;
}

/** A violation with its field path and description cut to MAX_VIOLATION_TEXT_CHARS. */
export function boundViolation({ field, description }: FieldViolation): FieldViolation {
  return { field: cut(field), description: cut(description) };
}

/** Optional facts attached to an API error's ErrorDetail. */
export interface ApiErrorExtra {
  field?: string;
  metadata?: Record<string, string>;
  retryDelayMs?: number;
  violations?: readonly FieldViolation[];
  omittedViolations?: number;
}

/** Cuts a message to MAX_ERROR_MESSAGE_CHARS, saying so. */
export function boundMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_CHARS) return message;
  return `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}… (message cut from ${message.length} characters)`;
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
    violations: (extra.violations ?? []).map(boundViolation),
    omittedViolations: extra.omittedViolations ?? 0,
  });
  if (extra.retryDelayMs !== undefined) {
    detail.retryDelay = durationFromMs(Math.max(0, Math.round(extra.retryDelayMs)));
  }
  return new ConnectError(boundMessage(message), code, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
}

export function notFound(what: string, metadata?: Record<string, string>): ConnectError {
  return apiError(Code.NotFound, ErrorReasons.notFound, `${what} not found`, metadata ? { metadata } : {});
}

export function failedPrecondition(message: string, metadata?: Record<string, string>): ConnectError {
  return apiError(Code.FailedPrecondition, ErrorReasons.failedPrecondition, message, metadata ? { metadata } : {});
}

/** Field-level INVALID_ARGUMENT for checks the service makes itself (masks, tokens, ...). */
export function invalidField(
  field: string,
  description: string,
  reason: string = ErrorReasons.invalidField,
): ConnectError {
  return apiError(Code.InvalidArgument, reason, `${field}: ${description}`, {
    field,
    violations: [{ field, description }],
  });
}
