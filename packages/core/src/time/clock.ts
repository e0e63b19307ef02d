/**
 * Time source for every helper that waits. Injected so tests can drive backoff, deadlines
 * and heartbeat liveness without real waiting.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

/** Source of uniformly distributed numbers in [0, 1); injected so jitter is reproducible in tests. */
export type Random = () => number;

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason as soon as the signal
 * aborts, so a cancelled call never sits out a backoff delay.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const error = new Error("This operation was aborted");
  error.name = "AbortError";
  return error;
}
