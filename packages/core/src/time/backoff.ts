import type { Random } from "./clock.js";

export interface BackoffOptions {
  /** Upper bound of the first delay. */
  initialMs: number;
  /** Upper bound no delay exceeds. */
  maxMs: number;
  /** Growth of the upper bound per attempt. */
  multiplier?: number;
}

/**
 * "Full jitter" delay for the given zero-based retry number: uniform in [0, min(max, initial × m^n)].
 * Spreading retries over the whole window avoids synchronised retry waves from many clients.
 */
export function fullJitterDelay(retry: number, options: BackoffOptions, random: Random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * (options.multiplier ?? 2) ** retry);
  return Math.floor(random() * ceiling);
}

/** Stateful full-jitter backoff that grows with consecutive failures and resets after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: Random,
  ) {}

  next(): number {
    return fullJitterDelay(this.failures++, this.options, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}
