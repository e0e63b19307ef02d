import { randomUUID } from "node:crypto";
import type { ConnectRouter, HandlerContext, Interceptor } from "@connectrpc/connect";
import { SnapshotService, VClusterService } from "@open-vcluster/api";
import { type TracerProvider, trace } from "@opentelemetry/api";
import { Activity, recordingStore } from "./activity/index.js";
import { unauthenticated } from "./auth/authenticator.js";
import {
  type AuthConfig,
  type Authenticator,
  buildAuthenticator,
  loadAuthConfig,
  loadTokensFile,
  principalKey,
} from "./auth/index.js";
import { type Clock, systemClock } from "./clock.js";
import {
  InFlight,
  loggingInterceptor,
  RpcFaults,
  requestIdInterceptor,
  storeUnavailableInterceptor,
  watchRequestErrors,
} from "./http/interceptors.js";
import { CertificateAuthority } from "./kubeconfig/index.js";
import { type Logger, resolveLogger } from "./logger.js";
import { ServerMetrics } from "./observability/metrics.js";
import { traceProvider, traceStore, tracingInterceptor } from "./observability/tracing.js";
import {
  createKubernetesProvider,
  type KubernetesProviderOptions,
  type Provider,
  ProviderFaults,
  SimulatedProvider,
} from "./provider/index.js";
import { deriveKey, resolveRootSecret } from "./secrets.js";
import {
  DEFAULT_LIMITS,
  OperationRunner,
  type ServiceDeps,
  type SweepResult,
  snapshotServiceImpl,
  startHousekeeping,
  sweepExpired,
  vclusterServiceImpl,
  WatchHub,
} from "./service/index.js";
import { observationTarget } from "./service/observe.js";
import { openStore, type PostgresStoreOptions, type Store, type StoreSpec } from "./store/index.js";

export interface ApiServerOptions {
  /** "memory" (default), "sqlite:<path>", "postgres://…", or an open Store. */
  store?: StoreSpec | Store;
  /** Connection settings of a PostgreSQL store (pool size, statement timeout, TLS). */
  postgres?: PostgresStoreOptions;
  /** Multiplies simulated provider durations; 0 = instant. Default 1. */
  timeScale?: number;
  /** Static bearer tokens file (YAML/JSON). Absent (and no authenticator) = no auth. */
  authTokensFile?: string;
  /**
   * Authenticators tried in order (static tokens, OIDC issuers, Kubernetes TokenReview): a
   * parsed config or the path of its YAML file. Static tokens from `authTokensFile` go first.
   */
  auth?: AuthConfig | string;
  authenticator?: Authenticator;
  heartbeatIntervalMs?: number;
  historyLimit?: number;
  /** At most one usage sample per vcluster in each interval of this many ms (default 60 000). */
  usageSampleIntervalMs?: number;
  maxWatchersPerPrincipal?: number;
  watchQueueLimit?: number;
  /** Largest accepted request message (default 4 MiB). */
  maxRequestBytes?: number;
  /** Root secret for page tokens and kubeconfig tokens; see README for the default. */
  secret?: string;
  logger?: false | Logger;
  /** Level of the built-in logger (ignored when `logger` is given). Default "info". */
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /** Prometheus metrics (ApiServer.metrics, GET /metrics). Default true. */
  metrics?: boolean;
  /** Also export Node's process metrics (CPU, memory, event loop). Default false. */
  processMetrics?: boolean;
  /**
   * OpenTelemetry spans for RPCs, store transactions and provider operations: `true` uses the
   * globally registered tracer provider, or pass one. Default off (no tracing work at all).
   */
  tracing?: boolean | TracerProvider;
  clock?: Clock;
  /** Replace the simulated provider (e.g. with a Kubernetes one). */
  provider?: Provider;
  /** Run vclusters on a real host cluster through Helm (ignored when `provider` is given). */
  kubernetes?: Omit<KubernetesProviderOptions, "clock">;
  /** How long close() waits for in-flight calls before cancelling them (default 10 s). */
  shutdownGraceMs?: number;
  /** Creates the provider runs at once over all replicas; more wait in phase PENDING. Default 0 = unlimited. */
  maxConcurrentCreates?: number;
  /** How long a replica's lease on an operation lasts unrenewed before another takes over (default 15 s). */
  operationLeaseMs?: number;
  /** Enables `faults` (test hooks that make RPCs and provider steps fail). Off: they are not in the request path. */
  faultInjection?: boolean;
}

export interface FaultInjector {
  provider: ProviderFaults;
  rpc: RpcFaults;
}

export interface ApiServer {
  /** Mount into connectNodeAdapter, @connectrpc/connect-fastify or @connectrpc/connect-express. */
  routes: (router: ConnectRouter) => void;
  store: Store;
  faults: FaultInjector;
  clock: Clock;
  authEnabled: boolean;
  /** The Prometheus registry of this server; undefined when metrics are off. */
  metrics: ServerMetrics | undefined;
  /** True until close() starts; /readyz reports it. */
  isReady(): boolean;
  /** Resolves once no background lifecycle work runs on this server. */
  idle(): Promise<void>;
  /** Runs the snapshot-expiry / request-id clean-up now. */
  sweep(): Promise<SweepResult>;
  /** Ends watches, waits for in-flight calls, stops background work, closes the store. */
  close(): Promise<void>;
}

/** Without faultInjection the hooks are not wired in: arming one is a mistake worth saying so. */
function disabledFaults(): FaultInjector {
  const refuse = (): never => {
    throw new Error("fault injection is disabled; create the server with faultInjection: true");
  };
  const provider = new ProviderFaults();
  const rpc = new RpcFaults();
  provider.inject = refuse;
  rpc.inject = refuse;
  return { provider, rpc };
}

export function createApiServer(options: ApiServerOptions = {}): ApiServer {
  const logger = resolveLogger(options.logger, options.logLevel);
  const clock = options.clock ?? systemClock;
  const storeSpec = typeof options.store === "string" ? options.store : options.store ? undefined : "memory";
  const opened =
    typeof options.store === "object"
      ? options.store
      : openStore(storeSpec as StoreSpec, {
          ...options.postgres,
          ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}),
        });
  // Every write path (handlers, operations, observations) records the vclusters' timelines
  // and usage samples in the transaction that makes the change.
  const store = recordingStore(opened, {
    clock,
    ...(options.usageSampleIntervalMs ? { usageSampleIntervalMs: options.usageSampleIntervalMs } : {}),
  });
  const root = resolveRootSecret({
    ...(options.secret ? { secret: options.secret } : {}),
    ...(storeSpec ? { storeSpec } : {}),
  });
  const faultInjection = options.faultInjection ?? false;
  const faults: FaultInjector = faultInjection
    ? { provider: new ProviderFaults(), rpc: new RpcFaults() }
    : disabledFaults();
  const baseProvider: Provider =
    options.provider ??
    (options.kubernetes
      ? createKubernetesProvider({ ...options.kubernetes, clock })
      : new SimulatedProvider({
          clock,
          ...(faultInjection ? { faults: faults.provider } : {}),
          timeScale: options.timeScale ?? 1,
        }));
  const tracer =
    options.tracing === undefined || options.tracing === false
      ? undefined
      : (options.tracing === true ? trace.getTracerProvider() : options.tracing).getTracer("@open-vcluster/server");
  const metrics =
    options.metrics === false
      ? undefined
      : new ServerMetrics(
          { store, openWatchStreams: (): number => watchHub.size },
          { processMetrics: options.processMetrics ?? false },
        );
  // The service sees the store and provider through the instruments that are on, and nothing
  // more when they are off.
  let served: Store = metrics ? metrics.instrumentStore(store) : store;
  let provider: Provider = metrics ? metrics.instrumentProvider(baseProvider) : baseProvider;
  if (tracer) {
    served = traceStore(served, tracer);
    provider = traceProvider(provider, tracer);
  }
  const limits = {
    ...DEFAULT_LIMITS,
    ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
    ...(options.maxWatchersPerPrincipal ? { maxWatchersPerPrincipal: options.maxWatchersPerPrincipal } : {}),
    ...(options.watchQueueLimit ? { watchQueueLimit: options.watchQueueLimit } : {}),
  };
  const operations = new OperationRunner(served, provider, clock, logger, {
    maxConcurrentCreates: options.maxConcurrentCreates ?? 0,
    ...(options.operationLeaseMs ? { leaseMs: options.operationLeaseMs } : {}),
  });
  const watchHub: WatchHub = new WatchHub(served, {
    queueLimit: limits.watchQueueLimit,
    maxPerSubject: limits.maxWatchersPerPrincipal,
  });
  const activity = new Activity(served, clock);
  const deps: ServiceDeps = {
    store: served,
    clock,
    logger,
    operations,
    provider,
    watchHub,
    activity,
    limits,
    pageTokenKey: deriveKey(root, "page-token"),
    kubeconfigKey: deriveKey(root, "kubeconfig"),
    certificateAuthority: new CertificateAuthority(deriveKey(root, "kubeconfig-ca")),
    newId: randomUUID,
  };
  const authenticator = options.authenticator ?? configuredAuthenticator(options, logger, () => clock.now());
  const inFlight = new InFlight();
  const shutdown = new AbortController();
  let ready = true;

  // The gate runs before the request body is read: unauthenticated callers cost little, and
  // errors connect raises while decoding the request are refined and logged (watchRequestErrors).
  const requestGate = async (ctx: HandlerContext) => {
    watchRequestErrors(ctx, logger);
    if (!authenticator) return;
    const principal = await authenticator.authenticate(ctx.requestHeader);
    if (!principal) throw unauthenticated();
    ctx.values.set(principalKey, principal);
  };
  const handlerOptions = {
    interceptors: [
      requestIdInterceptor(),
      loggingInterceptor(logger),
      storeUnavailableInterceptor(),
      ...(metrics ? [metrics.interceptor()] : []),
      ...(tracer ? [tracingInterceptor(tracer)] : []),
      inFlight.interceptor(),
      ...(faultInjection ? [faults.rpc.interceptor()] : []),
    ] satisfies Interceptor[],
    requestGate,
    // Strict JSON: an unknown field or enum name is refused instead of dropped (a misspelt or
    // unknown filter value must not widen a list), and invalid UTF-8 is refused, not replaced.
    jsonOptions: { ignoreUnknownFields: false, textDecoder: new TextDecoder("utf-8", { fatal: true }) },
    readMaxBytes: options.maxRequestBytes ?? 4 * 1024 * 1024,
    shutdownSignal: shutdown.signal,
  };
  const routes = (router: ConnectRouter) => {
    router.service(VClusterService, vclusterServiceImpl(deps), handlerOptions);
    router.service(SnapshotService, snapshotServiceImpl(deps), handlerOptions);
  };

  // Picks up work nobody drives: all a previous process left when this one owns the store,
  // else what other replicas abandoned (once their leases expire).
  operations.startBackground();
  const stopHousekeeping = startHousekeeping(served, clock, logger);
  // A provider with a real host keeps status true by observing it.
  provider.observe?.(observationTarget(served, clock));

  let closing: Promise<void> | undefined;
  return {
    routes,
    store,
    faults,
    clock,
    authEnabled: authenticator !== undefined,
    metrics,
    isReady: () => ready && store.healthy(),
    idle: () => operations.idle(),
    sweep: async () => (await sweepExpired(served, clock, logger)) ?? { snapshots: 0, requestIds: 0 },
    close() {
      closing ??= (async () => {
        ready = false;
        watchHub.close();
        const grace = options.shutdownGraceMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([inFlight.drained(), new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
        clearTimeout(timer);
        shutdown.abort();
        stopHousekeeping();
        await operations.shutdown();
        await provider.close?.();
        await store.close();
      })();
      return closing;
    },
  };
}

function configuredAuthenticator(
  options: ApiServerOptions,
  logger: Logger,
  now: () => Date,
): Authenticator | undefined {
  const config = typeof options.auth === "string" ? loadAuthConfig(options.auth) : options.auth;
  if (!config) return options.authTokensFile ? loadTokensFile(options.authTokensFile) : undefined;
  const first = options.authTokensFile ? [{ static: { tokensFile: options.authTokensFile } }] : [];
  // A TokenReview without a cluster of its own asks the host cluster the Kubernetes provider uses.
  const host = options.kubernetes?.connection;
  const authenticators = config.authenticators.map((entry) =>
    "tokenReview" in entry && !entry.tokenReview.kubeconfig && host?.kubeconfig
      ? {
          tokenReview: {
            ...entry.tokenReview,
            kubeconfig: host.kubeconfig,
            ...(host.context ? { context: host.context } : {}),
          },
        }
      : entry,
  );
  return buildAuthenticator({ authenticators: [...first, ...authenticators] }, logger, now);
}
