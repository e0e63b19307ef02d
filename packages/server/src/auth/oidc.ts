import { Code, ConnectError } from "@connectrpc/connect";
import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from "jose";
import { apiError } from "../errors.js";
import { type ClaimMapping, claimsToPrincipal } from "./claims.js";
import { rejected, type TokenVerdict, type TokenVerifier, UNRECOGNISED } from "./token-verifier.js";

/** Public-key algorithms only: `none` and the HS* family (a shared secret) are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

export interface OidcOptions {
  /** The issuer URL; tokens must carry exactly this `iss`. https, or http on a loopback host. */
  issuer: string;
  /** `aud` must name at least one of these (the client id for ID tokens, the API's audience for access tokens). */
  audiences: string[];
  /** Default: discovered from `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** Accepted signature algorithms (default: the asymmetric ones). */
  algorithms?: string[];
  /** Tolerated clock difference for `exp` and `nbf`, in seconds (default 30). */
  clockSkewSeconds?: number;
  claims?: ClaimMapping;
  /** How long a fetched key set is trusted before it is fetched again (default 10 minutes). */
  jwksCacheMaxAgeMs?: number;
  /** Least time between two fetches caused by an unknown key id (default 30 s). */
  jwksRefreshCooldownMs?: number;
  /** How long discovery and key-set requests may take (default 5 s). */
  httpTimeoutMs?: number;
  /** Time source for `exp`/`nbf` (tests inject a manual clock). */
  now?: () => Date;
}

/** Reasons jose gives for a token that is invalid, as opposed to an issuer it cannot reach. */
const INVALID_TOKEN_CODES = new Set([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JOSENotSupported.code,
]);

function checkIssuerUrl(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`oidc issuer "${issuer}" is not a URL`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new Error(`oidc issuer "${issuer}" must use https (http is allowed only on a loopback host)`);
  }
  return url;
}

export function checkOidcOptions(options: OidcOptions): void {
  checkIssuerUrl(options.issuer);
  if (options.audiences.length === 0 || options.audiences.some((a) => a === "")) {
    throw new Error(`oidc issuer "${options.issuer}": audiences must name at least one non-empty audience`);
  }
  const refused = (options.algorithms ?? []).filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
  if (refused.length > 0) {
    throw new Error(
      `oidc issuer "${options.issuer}": algorithms ${refused.join(", ")} are not allowed; use public-key algorithms (${ASYMMETRIC_ALGORITHMS.join(", ")})`,
    );
  }
}

/**
 * Verifies JWTs of one OpenID Connect issuer: discovery, a cached key set that follows the
 * issuer's key rotation, pinned algorithms, issuer, audience, `exp` and `nbf` with a small skew.
 */
export class OidcVerifier implements TokenVerifier {
  readonly name: string;
  private keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly options: OidcOptions) {
    checkOidcOptions(options);
    this.name = `oidc ${options.issuer}`;
  }

  async verify(token: string): Promise<TokenVerdict> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return UNRECOGNISED;
    }
    if (unverified.iss !== this.options.issuer) return UNRECOGNISED;
    const keys = await this.keys();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audiences,
        algorithms: this.options.algorithms ?? [...ASYMMETRIC_ALGORITHMS],
        clockTolerance: this.options.clockSkewSeconds ?? 30,
        requiredClaims: ["exp"],
        ...(this.options.now ? { currentDate: this.options.now() } : {}),
      });
      const principal = claimsToPrincipal(payload, this.options.claims ?? {});
      if (typeof principal === "string") return rejected(principal);
      return { kind: "accepted", principal, ...(payload.exp ? { expiresAt: new Date(payload.exp * 1000) } : {}) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && INVALID_TOKEN_CODES.has(code)) return rejected(`${code}: ${(error as Error).message}`);
      throw this.unavailable(error);
    }
  }

  private keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.keySet ??= this.discoverKeySet().catch((error: unknown) => {
      this.keySet = undefined; // the next request tries discovery again
      throw this.unavailable(error);
    });
    return this.keySet;
  }

  private async discoverKeySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const timeout = this.options.httpTimeoutMs ?? 5000;
    let jwksUri = this.options.jwksUri;
    if (jwksUri === undefined) {
      const url = new URL(".well-known/openid-configuration", this.options.issuer.replace(/\/?$/, "/"));
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      if (!response.ok) throw new Error(`discovery at ${url} answered HTTP ${response.status}`);
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== this.options.issuer) {
        throw new Error(`discovery at ${url} names issuer ${String(metadata.issuer)}, not ${this.options.issuer}`);
      }
      if (typeof metadata.jwks_uri !== "string") throw new Error(`discovery at ${url} has no jwks_uri`);
      jwksUri = metadata.jwks_uri;
    }
    return createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: timeout,
      cacheMaxAge: this.options.jwksCacheMaxAgeMs ?? 10 * 60_000,
      cooldownDuration: this.options.jwksRefreshCooldownMs ?? 30_000,
    });
  }

  private unavailable(error: unknown): Error {
    if (error instanceof ConnectError) return error;
    const refusal = apiError(Code.Unavailable, "UNAVAILABLE", "the identity provider cannot be reached; try again");
    refusal.cause = error; // logged by the chain, never sent: it may describe the internal network
    return refusal;
  }
}
