import type { TracerProvider } from "@opentelemetry/api";

/** A tracer provider set up from the environment, and how to flush and stop it. */
export interface EnvTracing {
  provider: TracerProvider;
  shutdown(): Promise<void>;
}

/**
 * Whether the standard OpenTelemetry variables ask for traces: an exporter other than "none",
 * or an OTLP endpoint, and the SDK not disabled.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== "") return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Sets up tracing as the OpenTelemetry environment variables describe, or returns undefined when
 * they ask for none. The SDK is loaded only then, so a server without tracing never pays for it.
 *
 * Read here: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp, console, none; comma-separated),
 * OTEL_EXPORTER_OTLP_PROTOCOL / OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (http/protobuf only),
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. The OTLP exporter reads its own
 * OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout, compression, certificates), and
 * the resource comes from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
 */
export async function startTracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<EnvTracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER || "otlp")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "" && e !== "none");
  for (const name of exporters) {
    if (name !== "otlp" && name !== "console")
      throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (supported: otlp, console, none)`);
  }
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf";
  if (exporters.includes("otlp") && protocol !== "http/protobuf")
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol "${protocol}" (supported: http/protobuf)`);

  const [api, sdk, core, resources, hooks] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/context-async-hooks"),
  ]);
  const spanProcessors = [];
  for (const name of exporters) {
    if (name === "otlp") {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
      spanProcessors.push(new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
    } else {
      spanProcessors.push(new sdk.SimpleSpanProcessor({ exporter: new sdk.ConsoleSpanExporter() }));
    }
  }
  const resource = resources
    .resourceFromAttributes({ "service.name": "vcluster-api-server" })
    .merge(resources.detectResources({ detectors: [resources.envDetector, resources.processDetector] }));
  const provider = new sdk.TracerProvider({ resource, spanProcessors, sampler: samplerFromEnv(sdk, env) });
  api.context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
  );
  api.trace.setGlobalTracerProvider(provider);
  return { provider, shutdown: () => provider.shutdown() };
}

type Sdk = typeof import("@opentelemetry/sdk-trace");

function samplerFromEnv(sdk: Sdk, env: NodeJS.ProcessEnv) {
  const name = env.OTEL_TRACES_SAMPLER || "parentbased_always_on";
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = () => {
    const value = arg === undefined || arg === "" ? 1 : Number(arg);
    if (!(value >= 0 && value <= 1))
      throw new Error(`OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1, got "${arg}"`);
    return new sdk.TraceIdRatioBasedSampler(value);
  };
  switch (name) {
    case "always_on":
      return new sdk.AlwaysOnSampler();
    case "always_off":
      return new sdk.AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_on":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case "parentbased_always_off":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new sdk.ParentBasedSampler({ root: ratio() });
    default:
      throw new Error(`OTEL_TRACES_SAMPLER: unsupported sampler "${name}"`);
  }
}
