import type { Clock } from "../../clock.js";
import { describeError, isTransient } from "./kube.js";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000 };

/**
 * Runs `action`, retrying transient host failures with exponential backoff (full jitter);
 * a permanent failure or the last attempt's failure is thrown with how often it was tried.
 */
export async function withRetry<T>(
  what: string,
  action: () => Promise<T>,
  options: { clock: Clock; policy: RetryPolicy; signal?: AbortSignal; isRetryable?: (error: unknown) => boolean },
): Promise<T> {
  const retryable = options.isRetryable ?? isTransient;
  let delay = options.policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (!retryable(error) || attempt >= options.policy.attempts) {
        const tries = attempt > 1 ? ` (after ${attempt} attempts)` : "";
        throw new Error(`${what}: ${describeError(error)}${tries}`, { cause: error });
      }
      await options.clock.sleep(Math.random() * delay, options.signal);
      delay = Math.min(delay * 2, options.policy.maxDelayMs);
    }
  }
}
