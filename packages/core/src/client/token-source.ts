import { createContextKey } from "@connectrpc/connect";
import { Tokens } from "@open-vcluster/api";
import { type Clock, systemClock } from "../time/clock.js";

/** A token as an issuer hands it out: with its expiry when known. */
export interface IssuedToken {
  token: string;
  /** When it stops being valid (a Date or epoch milliseconds); read from a JWT's `exp` when absent. */
  expiresAt?: Date | number;
}

/**
 * A token function that caches: called per request, it returns the cached token until shortly
 * before expiry and fetches a new one then. `invalidate()` drops the cache, which the client
 * does when the server refuses the token (revoked early, or signed with a rotated-out key).
 */
export type CachedToken = (() => Promise<string>) & {
  /** Drops the cached token: only when it is `refused` if that is given (it may be fresh already). */
  invalidate(refused?: string): void;
};

export interface CachedTokenOptions {
  /** Fetch a new token this long before the cached one expires. Default `Tokens.refreshBeforeMs` (60 000 ms). */
  refreshBeforeMs?: number;
  clock?: Clock;
}

/** The `exp` of a JWT in epoch milliseconds, or undefined for opaque tokens. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (token.split(".").length !== 3 || !payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps a token fetcher (an OAuth client-credentials call, a credential command, a file the
 * kubelet rotates) so that concurrent requests share one fetch and tokens are reused until
 * `refreshBeforeMs` before they expire. Failed fetches are not cached.
 */
export function cachedToken(
  fetchToken: () => Promise<IssuedToken | string>,
  options: CachedTokenOptions = {},
): CachedToken {
  const clock = options.clock ?? systemClock;
  const refreshBeforeMs = options.refreshBeforeMs ?? Tokens.refreshBeforeMs;
  let cached: { token: string; refreshAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  // A fetch in flight when the cache is invalidated still yields a token newer than the
  // refused one, so its result is kept and shared rather than fetched twice.
  const refresh = (): Promise<string> => {
    inFlight ??= fetchToken()
      .then((issued) => {
        const { token, expiresAt } = typeof issued === "string" ? { token: issued, expiresAt: undefined } : issued;
        if (!token) throw new Error("the token source returned an empty token");
        const expiry = expiresAt === undefined ? jwtExpiry(token) : Number(expiresAt);
        cached = { token, refreshAt: expiry === undefined ? Number.POSITIVE_INFINITY : expiry - refreshBeforeMs };
        return token;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  const current = (async () => {
    if (cached && clock.now() < cached.refreshAt) return cached.token;
    return refresh();
  }) as CachedToken;
  current.invalidate = (refused?: string) => {
    if (refused === undefined || cached?.token === refused) cached = undefined;
  };
  return current;
}

export interface ClientCredentialsOptions extends CachedTokenOptions {
  /** The token endpoint; or give `issuer` to discover it. */
  tokenUrl?: string;
  /** The OpenID issuer whose discovery document names the token endpoint. */
  issuer?: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** RFC 8707 resource indicator, for issuers that mint audience-bound access tokens. */
  resource?: string;
  /** Some issuers (Auth0, Entra) take the audience as a parameter of its own. */
  audience?: string;
  fetch?: typeof fetch;
}

/** Access tokens from the OAuth 2.0 client-credentials grant, for automation; cached as {@link cachedToken}. */
export function clientCredentialsToken(options: ClientCredentialsOptions): CachedToken {
  const fetchFn = options.fetch ?? fetch;
  let endpoint: Promise<string> | undefined;
  const tokenUrl = (): Promise<string> => {
    if (options.tokenUrl) return Promise.resolve(options.tokenUrl);
    if (!options.issuer) throw new TypeError("clientCredentialsToken needs tokenUrl or issuer");
    const discovery = `${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    endpoint ??= fetchFn(discovery)
      .then(async (response) => {
        if (!response.ok) throw new Error(`OpenID discovery at ${discovery} answered HTTP ${response.status}`);
        const url = ((await response.json()) as { token_endpoint?: unknown }).token_endpoint;
        if (typeof url !== "string") throw new Error(`OpenID discovery at ${discovery} names no token_endpoint`);
        return url;
      })
      .catch((error: unknown) => {
        endpoint = undefined;
        throw error;
      });
    return endpoint;
  };
  return cachedToken(async () => {
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    if (options.scope) body.set("scope", options.scope);
    if (options.resource) body.set("resource", options.resource);
    if (options.audience) body.set("audience", options.audience);
    const credentials = btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`);
    const response = await fetchFn(await tokenUrl(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${credentials}` },
      body,
    });
    const json = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof json.access_token !== "string") {
      const why = [json.error, json.error_description].filter((s) => typeof s === "string").join(": ");
      throw new Error(`token endpoint answered HTTP ${response.status}${why ? ` (${why})` : ""}`);
    }
    const expiresIn = typeof json.expires_in === "number" ? json.expires_in : undefined;
    return {
      token: json.access_token,
      ...(expiresIn !== undefined ? { expiresAt: (options.clock ?? systemClock).now() + expiresIn * 1000 } : {}),
    };
  }, options);
}

/**
 * Tells a refreshable token source that the server refused `refused`; false when the source
 * cannot fetch anew (a fixed string or a plain function), so retrying would not help.
 */
export function invalidateToken(source: unknown, refused?: string): boolean {
  if (typeof source === "function" && typeof (source as Partial<CachedToken>).invalidate === "function") {
    (source as CachedToken).invalidate(refused);
    return true;
  }
  return false;
}

/**
 * Where the auth interceptor records the token it sent, so a caller that sees the call
 * refused (a watch reconnecting) can invalidate exactly that token and not a newer one.
 */
export const sentTokenKey = createContextKey<{ token?: string } | undefined>(undefined, {
  description: "open-vcluster bearer token sent",
});
