export {
  bindHelpers,
  clientInterceptors,
  createVClusterApiClient,
  type ListWatchOptions,
  type TransportFactory,
  type VClusterApiClient,
} from "./api-client.js";
export { createBearerAuthInterceptor } from "./auth-interceptor.js";
export {
  type ClientOptions,
  clientDefaults,
  type HttpVersion,
  type Protocol,
  resolveHttpVersion,
  type TokenSource,
  type TransportConfig,
} from "./client-options.js";
export {
  type CachedToken,
  type CachedTokenOptions,
  type ClientCredentialsOptions,
  cachedToken,
  clientCredentialsToken,
  type IssuedToken,
  invalidateToken,
  jwtExpiry,
  sentTokenKey,
} from "./token-source.js";
