import { parseCliOptions, USAGE } from "./cli-options.js";
import { faultsFromEnv } from "./fault-env.js";
import { startServer } from "./http/start-server.js";
import { resolveLogger } from "./logger.js";
import { startTracingFromEnv } from "./observability/tracing-sdk.js";

/** The `vcluster-api-server` executable: flags and environment → a running server until a signal. */
export async function main(): Promise<void> {
  let options: ReturnType<typeof parseCliOptions>;
  let faults: ReturnType<typeof faultsFromEnv>;
  try {
    options = parseCliOptions(process.argv.slice(2), process.env);
    faults = faultsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`vcluster-api-server: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return;
  }
  const logger = resolveLogger(undefined, options.logLevel);
  const tracing = await startTracingFromEnv(process.env);
  // Faults armed from the environment need the hooks wired in; otherwise they stay out of the path.
  const server = await startServer({
    ...options,
    logger,
    processMetrics: true,
    ...(tracing ? { tracing: tracing.provider } : {}),
    ...(faults.length > 0 ? { faultInjection: true } : {}),
  });
  for (const fault of faults) server.faults.rpc.inject(fault);
  if (tracing) logger.info("tracing enabled");
  process.stdout.write(`vcluster-api-server listening on ${server.url}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal means "now".
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    server
      .close()
      // Spans still buffered are sent before the process ends.
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
