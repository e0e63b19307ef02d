import { Code } from "@connectrpc/connect";
import { apiError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type Authenticator, bearerToken } from "./authenticator.js";
import type { Principal } from "./principal.js";
import type { TokenVerifier } from "./token-verifier.js";

/**
 * Tries each verifier in order; the first that recognises the token decides. The caller only
 * ever learns "missing or invalid bearer token" (which check failed would help an attacker);
 * the log says which verifier decided and why.
 */
export class AuthenticatorChain implements Authenticator {
  constructor(
    readonly verifiers: readonly TokenVerifier[],
    private readonly logger: Logger,
  ) {
    if (verifiers.length === 0) throw new Error("an authenticator chain needs at least one verifier");
  }

  async authenticate(headers: Headers): Promise<Principal | undefined> {
    const token = bearerToken(headers);
    if (token === undefined) return undefined;
    for (const verifier of this.verifiers) {
      let verdict: Awaited<ReturnType<TokenVerifier["verify"]>>;
      try {
        verdict = await verifier.verify(token);
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        this.logger.error({ authenticator: verifier.name, err: cause }, "authenticator cannot decide");
        throw error;
      }
      if (verdict.kind === "unrecognised") continue;
      if (verdict.kind === "accepted") {
        return verdict.expiresAt ? { ...verdict.principal, expiresAt: verdict.expiresAt } : verdict.principal;
      }
      if (verdict.kind === "denied") {
        this.logger.warn({ authenticator: verifier.name, reason: verdict.reason }, "caller denied");
        throw apiError(Code.PermissionDenied, "PERMISSION_DENIED", "the caller is not allowed to use this API");
      }
      this.logger.warn({ authenticator: verifier.name, reason: verdict.reason }, "bearer token refused");
      return undefined;
    }
    this.logger.warn(
      { authenticators: this.verifiers.map((v) => v.name) },
      "bearer token refused: no authenticator recognised it",
    );
    return undefined;
  }
}
