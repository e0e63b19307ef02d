import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { TokenSource } from "./client-options.js";
import { invalidateToken, sentTokenKey } from "./token-source.js";

/**
 * Adds `Authorization: Bearer …`, resolving the token per attempt so sources can refresh it.
 * When the server refuses a cached token (revoked, or signed with a key the issuer rotated
 * out), a unary call drops the cache and tries once more with a fresh token; watches do the
 * same when they reconnect.
 */
export function createBearerAuthInterceptor(token: TokenSource): Interceptor {
  const resolve = async () => (typeof token === "function" ? await token() : token);
  return (next) => async (req) => {
    const value = await resolve();
    if (value) req.header.set("authorization", `Bearer ${value}`);
    const sent = req.contextValues.get(sentTokenKey);
    if (sent) sent.token = value;
    if (req.stream) return next(req);
    try {
      return await next(req);
    } catch (error) {
      if (!(error instanceof ConnectError) || error.code !== Code.Unauthenticated || !invalidateToken(token, value))
        throw error;
      const fresh = await resolve();
      if (!fresh || fresh === value) throw error;
      req.header.set("authorization", `Bearer ${fresh}`);
      return next(req);
    }
  };
}
