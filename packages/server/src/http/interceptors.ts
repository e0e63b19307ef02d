import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { principalKey } from "../auth/index.js";
import { apiError } from "../errors.js";

/**
 * Structured request log: procedure, status code, duration, principal. Streams are logged when
 * they end, since their status is only known then.
 */
export function loggingInterceptor(logger: Logger, now: () => number = performance.now.bind(performance)): Interceptor {
  return (next) => async (req) => {
    const started = now();
    const log = (error: unknown) => {
      const code = error === undefined ? "ok" : Code[ConnectError.from(error).code];
      const entry = {
        procedure: req.url.slice(req.url.indexOf("/", 8)),
        code,
        durationMs: Math.round((now() - started) * 10) / 10,
        principal: req.contextValues.get(principalKey).subject,
      };
      if (error !== undefined && ConnectError.from(error).code === Code.Internal)
        logger.error({ ...entry, err: error }, "rpc");
      else logger.info(entry, "rpc");
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        log(undefined);
        return res;
      }
      return {
        ...res,
        message: (async function* () {
          try {
            yield* res.message;
            log(undefined);
          } catch (error) {
            log(error);
            throw error;
          }
        })(),
      };
    } catch (error) {
      log(error);
      throw error;
    }
  };
}

export interface RpcFault {
  /** Method name as in the proto, e.g. "CreateVCluster". */
  procedure: string;
  code: Code;
  count?: number;
  /** "before": the handler never runs. "after": it runs and commits, then the response is lost. */
  when?: "before" | "after";
  message?: string;
}

/** Makes the next N calls of a procedure fail, to test client retries and idempotency. */
export class RpcFaults {
  private armed: (RpcFault & { remaining: number })[] = [];

  inject(fault: RpcFault): void {
    this.armed.push({ ...fault, remaining: Math.max(1, fault.count ?? 1) });
  }

  clear(): void {
    this.armed = [];
  }

  take(procedure: string): RpcFault | undefined {
    const fault = this.armed.find((f) => f.procedure === procedure && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return fault;
  }

  interceptor(): Interceptor {
    return (next) => async (req) => {
      const fault = this.take(req.method.name);
      if (!fault) return next(req);
      const error = apiError(
        fault.code,
        Code[fault.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(),
        fault.message ?? `injected ${Code[fault.code]} fault`,
      );
      if (fault.when === "after") {
        await next(req);
      }
      throw error;
    };
  }
}

/** Counts calls in flight so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  interceptor(): Interceptor {
    return (next) => async (req) => {
      this.count += 1;
      let streaming = false;
      try {
        const res = await next(req);
        if (!res.stream) return res;
        streaming = true;
        const done = () => this.release();
        return {
          ...res,
          message: (async function* () {
            try {
              yield* res.message;
            } finally {
              done();
            }
          })(),
        };
      } finally {
        if (!streaming) this.release();
      }
    };
  }

  get size(): number {
    return this.count;
  }

  drained(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    this.count -= 1;
    if (this.count === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }
}
