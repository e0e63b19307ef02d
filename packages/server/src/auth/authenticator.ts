import { Code } from "@connectrpc/connect";
import { apiError } from "../errors.js";
import type { Principal } from "./principal.js";

/**
 * Turns request headers into a principal. Return undefined when the credentials are missing or
 * wrong; the server answers UNAUTHENTICATED. Implementations may call out (OIDC, mTLS mapping).
 */
export interface Authenticator {
  authenticate(headers: Headers): Principal | undefined | Promise<Principal | undefined>;
}

export function bearerToken(headers: Headers): string | undefined {
  const value = headers.get("authorization");
  if (!value) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

export function unauthenticated(message = "missing or invalid bearer token"): Error {
  return apiError(Code.Unauthenticated, "UNAUTHENTICATED", message);
}
