export {
  type AuthConfig,
  type AuthenticatorConfig,
  buildAuthenticator,
  loadAuthConfig,
  parseAuthConfig,
} from "./auth-config.js";
export { type Authenticator, bearerToken } from "./authenticator.js";
export { AuthenticatorChain } from "./chain.js";
export type { ClaimMapping } from "./claims.js";
export { ASYMMETRIC_ALGORITHMS, type OidcOptions, OidcVerifier } from "./oidc.js";
export { ANONYMOUS_ADMIN, type Principal, principalKey } from "./principal.js";
export { loadTokensFile, parseTokensFile, type StaticToken, StaticTokenAuthenticator } from "./static-tokens.js";
export { canAccess, PROJECT_LABEL, projectForCreate, visibilityFilter } from "./tenancy.js";
export type { AccessCheck, TokenReviewOptions } from "./token-review.js";
export type { TokenVerdict, TokenVerifier } from "./token-verifier.js";
