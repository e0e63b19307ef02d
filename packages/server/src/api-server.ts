import { randomUUID } from "node:crypto";
import type { ConnectRouter, HandlerContext, Interceptor } from "@connectrpc/connect";
import { SnapshotService, VClusterService } from "@open-vcluster/api";
import { type TracerProvider, trace } from "@opentelemetry/api";
import { unauthenticated } from "./auth/authenticator.js";
import { type Authenticator, loadTokensFile, principalKey } from "./auth/index.js";
import { type Clock, systemClock } from "./clock.js";
import {
  InFlight,
  loggingInterceptor,
  RpcFaults,
  requestIdInterceptor,
  watchRequestErrors,
} from "./http/interceptors.js";
import { CertificateAuthority } from "./kubeconfig/index.js";
import { type Logger, resolveLogger } from "./logger.js";
import { ServerMetrics } from "./observability/metrics.js";
import { traceProvider, traceStore, tracingInterceptor } from "./observability/tracing.js";
import { type Provider, ProviderFaults, SimulatedProvider } from "./provider/index.js";
import { deriveKey, resolveRootSecret } from "./secrets.js";
import {
  DEFAULT_LIMITS,
  OperationRunner,
  type ServiceDeps,
  snapshotServiceImpl,
  startHousekeeping,
  sweepExpired,
  vclusterServiceImpl,
  WatchHub,
} from "./service/index.js";
import { openStore, type Store, type StoreSpec } from "./store/index.js";

export interface ApiServerOptions {
  /** "memory" (default), "sqlite:<path>", or an open Store. */
  store?: StoreSpec | Store;
  /** Multiplies simulated provider durations; 0 = instant. Default 1. */
  timeScale?: number;
  /** Static bearer tokens file (YAML/JSON). Absent (and no authenticator) = no auth. */
  authTokensFile?: string;
  authenticator?: Authenticator;
  heartbeatIntervalMs?: number;
  historyLimit?: number;
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
  /** How long close() waits for in-flight calls before cancelling them (default 10 s). */
  shutdownGraceMs?: number;
  /** Creates the provider runs at once; more wait in phase PENDING. Default 0 = unlimited. */
  maxConcurrentCreates?: number;
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
  /** Resolves once no background lifecycle work runs. */
  idle(): Promise<void>;
  /** Runs the snapshot-expiry / request-id clean-up now. */
  sweep(): { snapshots: number; requestIds: number };
  /** Ends watches, waits for in-flight calls, stops background work, closes the store. */
  close(): Promise<void>;
}

export function createApiServer(options: ApiServerOptions = {}): ApiServer {
  const logger = resolveLogger(options.logger, options.logLevel);
  const clock = options.clock ?? systemClock;
  const storeSpec = typeof options.store === "string" ? options.store : options.store ? undefined : "memory";
  const store =
    typeof options.store === "object"
      ? options.store
      : openStore(storeSpec as StoreSpec, options.historyLimit ? { historyLimit: options.historyLimit } : {});
  const root = resolveRootSecret({
    ...(options.secret ? { secret: options.secret } : {}),
    ...(storeSpec ? { storeSpec } : {}),
  });
  const faults: FaultInjector = { provider: new ProviderFaults(), rpc: new RpcFaults() };
  const baseProvider =
    options.provider ?? new SimulatedProvider({ clock, faults: faults.provider, timeScale: options.timeScale ?? 1 });
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
  const operations = new OperationRunner(served, provider, clock, logger, options.maxConcurrentCreates ?? 0);
  const watchHub: WatchHub = new WatchHub(served, {
    queueLimit: limits.watchQueueLimit,
    maxPerSubject: limits.maxWatchersPerPrincipal,
  });
  const deps: ServiceDeps = {
    store: served,
    clock,
    logger,
    operations,
    watchHub,
    limits,
    pageTokenKey: deriveKey(root, "page-token"),
    kubeconfigKey: deriveKey(root, "kubeconfig"),
    certificateAuthority: new CertificateAuthority(deriveKey(root, "kubeconfig-ca")),
    newId: randomUUID,
  };
  const authenticator =
    options.authenticator ?? (options.authTokensFile ? loadTokensFile(options.authTokensFile) : undefined);
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
      ...(metrics ? [metrics.interceptor()] : []),
      ...(tracer ? [tracingInterceptor(tracer)] : []),
      inFlight.interceptor(),
      faults.rpc.interceptor(),
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

  const resumed = operations.resumeInterrupted();
  if (resumed > 0) logger.info({ resumed }, "resumed interrupted operations");
  const stopHousekeeping = startHousekeeping(served, clock, logger);

  let closing: Promise<void> | undefined;
  return {
    routes,
    store,
    faults,
    clock,
    authEnabled: authenticator !== undefined,
    metrics,
    isReady: () => ready,
    idle: () => operations.idle(),
    sweep: () => sweepExpired(served, clock, logger),
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
        store.close();
      })();
      return closing;
    },
  };
}
