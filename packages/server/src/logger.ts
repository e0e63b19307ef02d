import { type Logger, pino } from "pino";

export type { Logger };

/** `false` silences logging; undefined gives JSON lines on stdout at info level. */
export function resolveLogger(logger: false | Logger | undefined): Logger {
  if (logger === false) return pino({ enabled: false });
  return logger ?? pino({ name: "vcluster-api-server" });
}
