import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError, type ContextValues } from "@connectrpc/connect";
import { errorDetail } from "../errors/error-detail.js";
import { hasRequestId } from "./request-id.js";
import { retrySafeKey } from "./retry-context.js";

/**
 * A call may be repeated when repeating it cannot do anything twice: read-only methods, methods
 * whose request carries an idempotency key (the SDK fills it once per call), and calls the caller
 * marked safe.
 */
export function isSafeToRepeat(method: DescMethod, contextValues: ContextValues): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    hasRequestId(method.input) ||
    contextValues.get(retrySafeKey)
  );
}

const transientCodes = new Set([Code.Unavailable, Code.ResourceExhausted, Code.Aborted, Code.DeadlineExceeded]);

export function isTransient(error: ConnectError): boolean {
  return transientCodes.has(error.code);
}

// Errors raised while connecting, before a single byte of the request left the client.
const refusedBeforeSending = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Default proof that the server did not process a request: the connection was refused or the
 * HTTP/2 stream was refused (both happen before the request is delivered), or the server
 * answered RESOURCE_EXHAUSTED, which it does for rate limits and admission before any work.
 */
export function defaultIsNotProcessed(error: ConnectError): boolean {
  if (errorChainHas(error, (e) => refusedBeforeSending.has(errorCode(e) ?? ""))) return true;
  if (errorChainHas(error, (e) => e instanceof Error && e.message.includes("REFUSED_STREAM"))) return true;
  return error.code === Code.ResourceExhausted && errorDetail(error)?.reason === "RESOURCE_EXHAUSTED";
}

function errorCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("code" in value)) return undefined;
  return typeof value.code === "string" ? value.code : undefined;
}

function errorChainHas(error: unknown, test: (e: unknown) => boolean): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    if (test(current)) return true;
    seen.add(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

export function isTimeout(error: ConnectError): boolean {
  return error.code === Code.DeadlineExceeded;
}
