import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";
import type { Logger } from "pino";
import { principalKey } from "../auth/index.js";
import { apiError, boundMessage } from "../errors.js";
import { codeName } from "../observability/code-name.js";
import { REQUEST_ID_HEADER, requestContext, requestIdFrom } from "../observability/request-id.js";
import { StoreUnavailableError } from "../store/index.js";
import { onCallError } from "./call-error.js";
import { checkGetQuery, refineRequestError } from "./request-errors.js";
import { onStreamEnd } from "./stream-end.js";

const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

/** Marks a call whose outcome the logging interceptor reports, so the request gate does not. */
const loggedByInterceptor = createContextKey(false, { description: "logged by the logging interceptor" });

interface RpcLogEntry {
  procedure: string;
  durationMs: number;
  principal: string;
  requestId: string | undefined;
}

/**
 * One line per finished call. A failure the server caused (an exception that is not an API
 * error, or INTERNAL / UNKNOWN / DATA_LOSS) is logged at error level with its cause; a refused
 * request at info with its code, reason and message; both are bounded by the error limits.
 */
/** What every request log line says of its call. */
function rpcEntry(url: string, durationMs: number, principal: string, header: Headers): RpcLogEntry {
  return {
    procedure: procedureOf(url),
    durationMs: Math.round(durationMs * 10) / 10,
    principal,
    requestId: header.get(REQUEST_ID_HEADER) ?? undefined,
  };
}

function logOutcome(logger: Logger, entry: RpcLogEntry, error: unknown): void {
  if (error === undefined) {
    logger.info({ ...entry, code: codeName(0) }, "rpc");
    return;
  }
  if (!(error instanceof ConnectError)) {
    // connect answers INTERNAL for anything that is not a ConnectError.
    logger.error({ ...entry, code: codeName(Code.Internal), err: error }, "rpc failed");
    return;
  }
  const failure = {
    ...entry,
    code: codeName(error.code),
    reason: error.findDetails(ErrorDetailSchema)[0]?.reason ?? "",
    message: boundMessage(error.rawMessage),
  };
  if (SERVER_FAULTS.has(error.code)) logger.error({ ...failure, err: error.cause ?? error }, "rpc failed");
  else logger.info(failure, "rpc");
}

/** "/vcluster.api.v1.VClusterService/GetVCluster": the call's URL path, without a GET's query. */
function procedureOf(url: string): string {
  // Cheaper than new URL(): this runs once per call.
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return start < 0 ? "/" : url.slice(start, query < 0 ? undefined : query);
}

/**
 * A store that cannot be reached (its database is down) makes RPCs UNAVAILABLE, which clients
 * retry, instead of INTERNAL. Streams that lose it mid-way end the same way.
 */
export function storeUnavailableInterceptor(): Interceptor {
  const translate = (error: unknown): unknown =>
    error instanceof StoreUnavailableError
      ? apiError(Code.Unavailable, "UNAVAILABLE", `the store is unavailable: ${error.message}`, { retryDelayMs: 1000 })
      : error;
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: onStreamEnd(res.message, () => {}, translate) };
    } catch (error) {
      throw translate(error);
    }
  };
}

/**
 * Gives every call an id: the caller's `x-request-id` when it sent an acceptable one, else a new
 * one. The id is echoed in the response headers (and in error metadata), and log lines written
 * while the call is handled carry it.
 */
export function requestIdInterceptor(): Interceptor {
  return (next) => async (req) => {
    const sent = req.header.get(REQUEST_ID_HEADER);
    const requestId = requestIdFrom(sent);
    // The server's front door usually settled it already; setting a header is not free.
    if (requestId !== sent) req.header.set(REQUEST_ID_HEADER, requestId);
    try {
      const res = await requestContext.run({ requestId }, () => next(req));
      res.header.set(REQUEST_ID_HEADER, requestId);
      return res;
    } catch (error) {
      // As connect itself answers: anything that is not a ConnectError is INTERNAL.
      const connectError = ConnectError.from(error, Code.Internal);
      connectError.metadata.set(REQUEST_ID_HEADER, requestId);
      throw connectError;
    }
  };
}

/**
 * Structured request log: procedure, status code, duration, principal, request id. Streams are logged when
 * they end, since their status is only known then. Errors that connect raises while decoding a
 * streaming request pass through here and are refined first (see refineRequestError).
 */
export function loggingInterceptor(logger: Logger, now: () => number = performance.now.bind(performance)): Interceptor {
  return (next) => async (req) => {
    const started = now();
    req.contextValues.set(loggedByInterceptor, true);
    const log = (error: unknown) => {
      if (error instanceof ConnectError) refineRequestError(error, req.method.input);
      logOutcome(
        logger,
        rpcEntry(req.url, now() - started, req.contextValues.get(principalKey).subject, req.header),
        error,
      );
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        log(undefined);
        return res;
      }
      return {
        ...res,
        message: onStreamEnd(res.message, (end) => {
          if (end.kind === "done") log(undefined);
          else if (end.kind === "failed") log(end.error);
        }),
      };
    } catch (error) {
      log(error);
      throw error;
    }
  };
}

/**
 * For the request gate, which runs before connect reads the request: connect aborts the call's
 * signal with the error before it serializes it, also for errors raised while decoding the request,
 * which no interceptor sees. This refines such an error in place into the code the API documents,
 * and logs calls that ended before reaching the interceptors.
 */
export function watchRequestErrors(
  ctx: HandlerContext,
  logger: Logger,
  now: () => number = performance.now.bind(performance),
): void {
  const started = now();
  onCallError(ctx, (reason) => {
    if (reason instanceof ConnectError) refineRequestError(reason, ctx.method.input);
    if (ctx.values.get(loggedByInterceptor)) return;
    logOutcome(
      logger,
      rpcEntry(ctx.url, now() - started, ctx.values.get(principalKey).subject, ctx.requestHeader),
      reason,
    );
  });
  checkGetQuery(ctx);
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
      const error = apiError(fault.code, codeName(fault.code), fault.message ?? `injected ${Code[fault.code]} fault`);
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
        return { ...res, message: onStreamEnd(res.message, done) };
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
