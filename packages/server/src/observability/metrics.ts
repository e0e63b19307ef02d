import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Phase } from "@open-vcluster/api";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { onStreamEnd } from "../http/stream-end.js";
import type { Provider } from "../provider/index.js";
import type { Store } from "../store/index.js";
import { codeName } from "./code-name.js";
import { HotHistogram } from "./hot-histogram.js";

/** What the scrape reads at collection time instead of counting on every change. */
export interface MetricSources {
  openWatchStreams(): number;
  store: Store;
}

// Buckets in seconds: RPCs range from sub-millisecond reads to long waits (waitForReady); store
// calls from microseconds (memory) to tens of milliseconds (SQLite on a slow disk).
const RPC_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
const LIFECYCLE_BUCKETS = [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const PHASES = Object.values(Phase).filter((p): p is Phase => typeof p === "number" && p !== Phase.UNSPECIFIED);

const seconds = (startedMs: number) => (performance.now() - startedMs) / 1000;

/**
 * The server's Prometheus metrics, in a registry of its own so several servers in one process
 * (embedding, tests) never mix their numbers. Served at GET /metrics.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly rpcSeconds: HotHistogram;
  private readonly storeSeconds: HotHistogram;
  // RPCs being handled, by service and method: counted here, read at scrape time.
  private readonly inFlight = new Map<string, { labels: Record<string, string>; value: number }>();
  private readonly lifecycle: Counter<"kind" | "outcome">;
  private readonly lifecycleSeconds: Histogram<"kind" | "outcome">;
  private readonly providerErrors: Counter<"kind">;

  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // The per-call metrics count in plain fields and reach prom-client at scrape time (see
    // HotHistogram): its own inc/observe cost several microseconds a call.
    const rpcSeconds = new HotHistogram({
      name: "vcluster_api_rpc_duration_seconds",
      help: "Time from receiving an RPC to its last response message (streams: their whole life).",
      labelNames: ["service", "method", "code"],
      buckets: RPC_BUCKETS,
      registers,
    });
    this.rpcSeconds = rpcSeconds;
    new Counter({
      name: "vcluster_api_rpcs_total",
      help: "RPCs handled, by service, method and gRPC status code (streams count when they end).",
      labelNames: ["service", "method", "code"],
      registers,
      // The same count as the duration histogram's.
      collect() {
        this.reset();
        for (const { labels, count } of rpcSeconds.counts()) this.inc(labels, count);
      },
    });
    const inFlight = this.inFlight;
    new Gauge({
      name: "vcluster_api_rpcs_in_flight",
      help: "RPCs being handled now, open streams included.",
      labelNames: ["service", "method"],
      registers,
      collect() {
        for (const { labels, value } of inFlight.values()) this.set(labels, value);
      },
    });
    new Gauge({
      name: "vcluster_api_watch_streams_open",
      help: "Open watch streams.",
      registers,
      collect() {
        this.set(sources.openWatchStreams());
      },
    });
    this.storeSeconds = new HotHistogram({
      name: "vcluster_api_store_operation_duration_seconds",
      help: "Store calls made outside a transaction, and whole transactions (operation=transaction).",
      labelNames: ["operation", "outcome"],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.lifecycle = new Counter({
      name: "vcluster_api_lifecycle_operations_total",
      help: "Lifecycle operations the provider finished, by kind and outcome (succeeded, failed, aborted).",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.lifecycleSeconds = new Histogram({
      name: "vcluster_api_lifecycle_operation_duration_seconds",
      help: "How long the provider worked on a lifecycle operation.",
      labelNames: ["kind", "outcome"],
      buckets: LIFECYCLE_BUCKETS,
      registers,
    });
    this.providerErrors = new Counter({
      name: "vcluster_api_provider_errors_total",
      help: "Provider operations that failed, by kind.",
      labelNames: ["kind"],
      registers,
    });
    new Gauge({
      name: "vcluster_api_vclusters",
      help: "VClusters stored, by phase.",
      labelNames: ["phase"],
      registers,
      async collect() {
        for (const phase of PHASES) {
          const result = await sources.store.listVClusters({ phases: [phase] }, "name", undefined, 1);
          this.set({ phase: Phase[phase] }, result.total);
        }
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  #inFlightOf(service: string, method: string): { value: number } {
    const key = `${service}/${method}`;
    let entry = this.inFlight.get(key);
    if (entry === undefined) {
      entry = { labels: { service, method }, value: 0 };
      this.inFlight.set(key, entry);
    }
    return entry;
  }

  /** Counts, times and tracks in-flight RPCs; streams are measured until they end. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const service = req.service.typeName;
      const method = req.method.name;
      const started = performance.now();
      const inFlight = this.#inFlightOf(service, method);
      inFlight.value += 1;
      const done = (error: unknown) => {
        inFlight.value -= 1;
        const code = codeName(error === undefined ? 0 : ConnectError.from(error, Code.Internal).code);
        this.rpcSeconds.series(service, method, code)(seconds(started));
      };
      let res: Awaited<ReturnType<typeof next>>;
      try {
        res = await next(req);
      } catch (error) {
        done(error);
        throw error;
      }
      if (!res.stream) {
        done(undefined);
        return res;
      }
      return {
        ...res,
        message: onStreamEnd(res.message, (end) => {
          if (end.kind === "done") done(undefined);
          else if (end.kind === "failed") done(end.error);
        }),
      };
    };
  }

  /** Times every store call made outside a transaction, and each transaction as a whole. */
  instrumentStore(store: Store): Store {
    return timeMethods(store, UNTIMED_STORE_METHODS, (operation, outcome, ms) =>
      this.storeSeconds.series(operation, outcome)(ms / 1000),
    );
  }

  /** Counts and times lifecycle operations and provider failures. */
  instrumentProvider(provider: Provider): Provider {
    return withRun(provider, async (op) => {
      const started = performance.now();
      const finish = (outcome: string) => {
        this.lifecycle.labels(op.kind, outcome).inc();
        this.lifecycleSeconds.labels(op.kind, outcome).observe(seconds(started));
      };
      try {
        const result = await provider.run(op);
        finish("succeeded");
        return result;
      } catch (error) {
        if (op.signal.aborted) finish("aborted");
        else {
          finish("failed");
          this.providerErrors.labels(op.kind).inc();
        }
        throw error;
      }
    });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The provider as it is (name, capabilities, whatever else it has), with another `run`. */
export function withRun(provider: Provider, run: Provider["run"]): Provider {
  return new Proxy(provider, {
    get(target, key) {
      if (key === "run") return run;
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Bookkeeping calls too cheap or too frequent to be worth a histogram sample. */
const UNTIMED_STORE_METHODS = new Set(["subscribe", "close", "currentVersion", "oldestRetainedVersion"]);

/**
 * Wraps an object so each call of its methods (except `skip`) reports its duration and whether
 * it threw. Works for synchronous and promise-returning methods alike.
 */
export function timeMethods<T extends object>(
  target: T,
  skip: ReadonlySet<string>,
  report: (method: string, outcome: "ok" | "error", ms: number) => void,
): T {
  // Keyed by the method itself, not its name: a target may hand out another function later.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(value);
      if (fn) return fn;
      if (typeof key !== "string" || skip.has(key)) {
        // Bound to the target itself: its methods may use private fields, which a proxy lacks.
        fn = value.bind(object);
        wrapped.set(value, fn);
        return fn;
      }
      fn = (...args: unknown[]) => {
        const started = performance.now();
        let result: unknown;
        try {
          result = value.apply(object, args);
        } catch (error) {
          report(key, "error", performance.now() - started);
          throw error;
        }
        if (result instanceof Promise) {
          return result.then(
            (ok) => {
              report(key, "ok", performance.now() - started);
              return ok;
            },
            (error: unknown) => {
              report(key, "error", performance.now() - started);
              throw error;
            },
          );
        }
        report(key, "ok", performance.now() - started);
        return result;
      };
      wrapped.set(value, fn);
      return fn;
    },
  });
}
