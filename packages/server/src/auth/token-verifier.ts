import type { Principal } from "./principal.js";

/**
 * What one verifier concluded about a bearer token. `unrecognised` passes the token to the
 * next verifier (it is not this verifier's kind, e.g. another issuer); `rejected` ends the
 * chain (the token is this verifier's kind but invalid), so a forged token for one issuer
 * can never be accepted by a laxer verifier further down; `denied` means a valid identity
 * that its authority (e.g. Kubernetes RBAC) does not allow to use the API.
 */
export type TokenVerdict =
  | { kind: "accepted"; principal: Principal; expiresAt?: Date }
  | { kind: "rejected"; reason: string }
  | { kind: "denied"; reason: string }
  | { kind: "unrecognised" };

/** One way of proving identity with a bearer token: static tokens, OIDC, TokenReview. */
export interface TokenVerifier {
  /** Names the verifier in logs ("static", "oidc https://issuer", "tokenreview"). */
  readonly name: string;
  /** Throws (e.g. with code UNAVAILABLE) only when it cannot decide, never for a bad token. */
  verify(token: string): Promise<TokenVerdict>;
}

export const UNRECOGNISED: TokenVerdict = Object.freeze({ kind: "unrecognised" });
export const rejected = (reason: string): TokenVerdict => ({ kind: "rejected", reason });
