import { Code, ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import { errorDetail } from "../errors/error-detail.js";
import { RetriedCallError } from "../errors/retried-call-error.js";
import { fullJitterDelay } from "../time/backoff.js";
import { sleep } from "../time/clock.js";
import { withRequestId } from "./request-id.js";
import { RetryBudget } from "./retry-budget.js";
import { defaultIsNotProcessed, isSafeToRepeat, isTimeout, isTransient } from "./retry-decision.js";
import { type ResolvedRetryOptions, type RetryOptions, resolveRetryOptions } from "./retry-options.js";
import { readTimeoutHeader, writeTimeoutHeader } from "./timeout-header.js";

type AnyRequest = UnaryRequest | StreamRequest;

/**
 * Retries failed calls following the SDK's policy (see README): only calls that are safe to repeat
 * or provably unprocessed, only transient codes, full-jitter backoff, the call's timeout as the
 * total budget, a client-wide retry budget and the server's retry-delay hint. For streams only
 * opening the stream is retried; a failure mid-stream belongs to the consumer (the watch helper).
 */
export function createRetryInterceptor(options: RetryOptions = {}): Interceptor {
  const o = resolveRetryOptions(options, options.isNotProcessed ?? defaultIsNotProcessed);
  const budget = new RetryBudget(o.budget);
  return (next) => async (original) => {
    if (o.maxAttempts <= 1) return next(original);
    const safe = isSafeToRepeat(original.method, original.contextValues);
    const req = await prepareForRepeats(original, safe);
    const totalMs = readTimeoutHeader(req.header);
    const deadline = totalMs === undefined ? undefined : o.clock.now() + totalMs;
    const errors: ConnectError[] = [];
    let lastRetryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const attemptTimeout = attemptTimeoutMs(o, deadline);
      const attemptRun = startAttempt(req, attemptTimeout, o);
      try {
        const response = await next(attemptRun.request);
        budget.succeeded(lastRetryCost);
        return response;
      } catch (reason) {
        const error = attemptRun.timedOut()
          ? new ConnectError("attempt timed out", Code.DeadlineExceeded)
          : ConnectError.from(reason);
        const fail = (note?: string) => (errors.length === 0 ? error : new RetriedCallError(error, errors, note));
        if (req.signal.aborted) throw fail();
        const retryable = safe ? isTransient(error) : o.isNotProcessed(error);
        if (!retryable) throw fail();
        if (attempt >= o.maxAttempts) throw fail();
        const remaining = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - o.clock.now();
        const delay = backoffDelay(error, attempt, o);
        // Waiting past the deadline only to fail there helps no one: give up now.
        if (delay >= remaining) throw fail("no time left for another attempt");
        lastRetryCost = budget.acquire(isTimeout(error));
        if (lastRetryCost === undefined) throw fail("retry budget exhausted");
        errors.push(error);
        o.onRetry?.({ procedure: `${req.service.typeName}/${req.method.name}`, attempt, error, delayMs: delay });
        try {
          await sleep(o.clock, delay, req.signal);
        } catch (abort) {
          // The call was cancelled (or its deadline passed) between attempts: report that, not the last failure.
          throw new RetriedCallError(
            ConnectError.from(abort, Code.Canceled),
            errors,
            "stopped while waiting to retry",
            attempt,
          );
        }
      } finally {
        attemptRun.done();
      }
    }
  };
}

/** Fixes what must stay the same on every attempt: the request id, and a replayable request stream. */
async function prepareForRepeats(req: AnyRequest, safe: boolean): Promise<AnyRequest> {
  if (!req.stream) {
    return safe ? { ...req, message: withRequestId(req.method.input, req.message) } : req;
  }
  // A request stream can be read only once; server-streaming calls send a single message, so buffer it.
  if (req.method.methodKind !== "server_streaming") return req;
  const messages: unknown[] = [];
  for await (const m of req.message) messages.push(m);
  return {
    ...req,
    message: {
      async *[Symbol.asyncIterator]() {
        yield* messages;
      },
    } as StreamRequest["message"],
  };
}

function attemptTimeoutMs(o: ResolvedRetryOptions, deadline: number | undefined): number | undefined {
  const remaining = deadline === undefined ? undefined : Math.max(0, deadline - o.clock.now());
  if (o.attemptTimeoutMs === undefined) return remaining;
  return remaining === undefined ? o.attemptTimeoutMs : Math.min(o.attemptTimeoutMs, remaining);
}

interface AttemptRun {
  request: AnyRequest;
  timedOut(): boolean;
  done(): void;
}

function startAttempt(req: AnyRequest, timeoutMs: number | undefined, o: ResolvedRetryOptions): AttemptRun {
  const header = new Headers(req.header);
  if (timeoutMs === undefined || req.stream) {
    // Streams live long past their opening; only the header is clamped, never a local timer.
    if (timeoutMs !== undefined) writeTimeoutHeader(header, timeoutMs);
    return { request: { ...req, header }, timedOut: () => false, done: () => {} };
  }
  writeTimeoutHeader(header, timeoutMs);
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort(req.signal.reason);
  req.signal.addEventListener("abort", onAbort, { once: true });
  const cancelTimer = o.clock.setTimer(() => {
    expired = true;
    controller.abort(new ConnectError("attempt timed out", Code.DeadlineExceeded));
  }, timeoutMs);
  return {
    request: { ...req, header, signal: controller.signal },
    timedOut: () => expired && !req.signal.aborted,
    done: () => {
      cancelTimer();
      req.signal.removeEventListener("abort", onAbort);
    },
  };
}

function backoffDelay(error: ConnectError, attempt: number, o: ResolvedRetryOptions): number {
  const base = error.code === Code.ResourceExhausted ? o.throttledBaseDelayMs : o.baseDelayMs;
  const jittered = fullJitterDelay(attempt - 1, { initialMs: base, maxMs: o.maxDelayMs }, o.random);
  return Math.max(jittered, errorDetail(error)?.retryDelayMs ?? 0);
}
