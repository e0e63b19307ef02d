export { type ApiServer, type ApiServerOptions, createApiServer, type FaultInjector } from "./api-server.js";
export {
  ANONYMOUS_ADMIN,
  type Authenticator,
  canAccess,
  loadTokensFile,
  PROJECT_LABEL,
  type Principal,
  parseTokensFile,
  principalKey,
  type StaticToken,
  StaticTokenAuthenticator,
} from "./auth/index.js";
export { parseCliOptions as parseServerArgs, USAGE as SERVER_USAGE } from "./cli-options.js";
export { type Clock, ManualClock, systemClock } from "./clock.js";
export { apiError } from "./errors.js";
export type { RpcFault, RpcFaults } from "./http/interceptors.js";
export { createRpcHandler, type RpcHandlerOptions } from "./http/rpc-handler.js";
export { type RunningServer, type ServerOptions, startServer } from "./http/start-server.js";
export { createInProcessTransport } from "./in-process.js";
export type { ServerMetrics } from "./observability/metrics.js";
export { REQUEST_ID_HEADER } from "./observability/request-id.js";
export { type EnvTracing, startTracingFromEnv } from "./observability/tracing-sdk.js";
export {
  createKubernetesProvider,
  DEFAULT_DURATIONS_MS,
  type KubernetesProviderOptions,
  type LazyKubernetesProvider,
  type Observation,
  type ObservationTarget,
  type OperationKind,
  type Provider,
  ProviderError,
  type ProviderFault,
  ProviderFaults,
  type ProviderHelmRelease,
  type ProviderKubeconfig,
  type ProviderOperation,
  ProviderPreconditionError,
  type ProviderResult,
  SimulatedProvider,
} from "./provider/index.js";
export { openStore, type Store, type StoreSpec } from "./store/index.js";
