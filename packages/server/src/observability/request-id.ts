import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** The header that carries a request's id, in both directions. */
export const REQUEST_ID_HEADER = "x-request-id";

// An id a caller or proxy sent is kept so one id follows the request through every hop, but
// only in a shape that is safe to log and echo (no control characters, bounded length).
const ACCEPTABLE = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** The caller's id when it is acceptable, else a new one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE.test(value) ? value : randomUUID();
}

/** The request being served by the current async call chain; the logger stamps its id. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();
