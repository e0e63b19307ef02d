export { type Authenticator, bearerToken } from "./authenticator.js";
export { ANONYMOUS_ADMIN, type Principal, principalKey } from "./principal.js";
export { loadTokensFile, parseTokensFile, type StaticToken, StaticTokenAuthenticator } from "./static-tokens.js";
export { canAccess, PROJECT_LABEL, projectForCreate, visibilityFilter } from "./tenancy.js";
