import { type Level, type Logger, pino } from "pino";
import { requestContext } from "./observability/request-id.js";

export type { Logger };

export const LOG_LEVELS: readonly (Level | "silent")[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * `false` silences logging; undefined gives JSON lines on stdout at `level` (default info),
 * written asynchronously (a request log line never waits for the terminal or pipe; pino flushes
 * what is buffered when the process exits). Lines written while a request is served carry its
 * `requestId`.
 */
export function resolveLogger(logger: false | Logger | undefined, level: Level | "silent" = "info"): Logger {
  if (logger === false) return pino({ enabled: false });
  return (
    logger ??
    pino(
      {
        name: "vcluster-api-server",
        level,
        mixin: () => {
          const request = requestContext.getStore();
          return request ? { requestId: request.requestId } : {};
        },
      },
      pino.destination({ dest: 1, sync: false }),
    )
  );
}
