import type { Interceptor } from "@connectrpc/connect";
import type { TokenSource } from "./client-options.js";

/** Adds `Authorization: Bearer …`, resolving the token per attempt so providers can refresh it. */
export function createBearerAuthInterceptor(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    const value = typeof token === "function" ? await token() : token;
    if (value) req.header.set("authorization", `Bearer ${value}`);
    return next(req);
  };
}
