import { abortReason, type Clock } from "../time/clock.js";
import { WaitTimeoutError } from "./wait-errors.js";

export interface WaitOptions<T> {
  /** Total time allowed. Default 600 000 ms (10 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every state observed, the first one included. */
  onProgress?: (observed: T) => void;
}

export const waitDefaults = { timeoutMs: 600_000 } as const;

/**
 * The shared frame of every waiter: one signal that fires on the caller's abort or the total
 * timeout, and the last observed object for the timeout error.
 */
export class WaitScope<T> {
  readonly signal: AbortSignal;
  private lastObserved: T | undefined;
  private readonly controller = new AbortController();
  private readonly cancelTimer: () => void;
  readonly timeoutMs: number;

  constructor(
    private readonly target: string,
    private readonly options: WaitOptions<T>,
    clock: Clock,
  ) {
    this.timeoutMs = options.timeoutMs ?? waitDefaults.timeoutMs;
    this.cancelTimer = clock.setTimer(() => this.controller.abort(this.timeoutError()), this.timeoutMs);
    this.signal = options.signal ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal;
  }

  observe(value: T): void {
    this.lastObserved = value;
    this.options.onProgress?.(value);
  }

  get last(): T | undefined {
    return this.lastObserved;
  }

  /** The error to surface when an operation inside the wait failed because the scope ended. */
  endedError(): unknown {
    return abortReason(this.signal);
  }

  dispose(): void {
    this.cancelTimer();
  }

  private timeoutError(): WaitTimeoutError<T> {
    return new WaitTimeoutError(this.target, this.timeoutMs, this.lastObserved);
  }
}
