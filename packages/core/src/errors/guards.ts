import { Code, ConnectError } from "@connectrpc/connect";
import { errorDetail } from "./error-detail.js";

function hasCode(code: Code): (error: unknown) => error is ConnectError {
  return (error: unknown): error is ConnectError => error instanceof ConnectError && error.code === code;
}

export const isNotFound = hasCode(Code.NotFound);
export const isAlreadyExists = hasCode(Code.AlreadyExists);
export const isFailedPrecondition = hasCode(Code.FailedPrecondition);
export const isInvalidArgument = hasCode(Code.InvalidArgument);
export const isPermissionDenied = hasCode(Code.PermissionDenied);
export const isUnauthenticated = hasCode(Code.Unauthenticated);
export const isUnavailable = hasCode(Code.Unavailable);
export const isDeadlineExceeded = hasCode(Code.DeadlineExceeded);
export const isResourceExhausted = hasCode(Code.ResourceExhausted);
export const isAborted = hasCode(Code.Aborted);
export const isCanceled = hasCode(Code.Canceled);
export const isOutOfRange = hasCode(Code.OutOfRange);

export const REASON_RESOURCE_VERSION_EXPIRED = "RESOURCE_VERSION_EXPIRED";

/** The watch version is older than the server's retained history: re-list, then watch again. */
export function isResourceVersionExpired(error: unknown): error is ConnectError {
  return isOutOfRange(error) && errorDetail(error)?.reason === REASON_RESOURCE_VERSION_EXPIRED;
}

/** True when the error's ErrorDetail carries the given reason (e.g. "REQUEST_ID_REUSED"). */
export function hasReason(error: unknown, reason: string): error is ConnectError {
  return errorDetail(error)?.reason === reason;
}
