import type { ConnectError } from "@connectrpc/connect";
import { type Clock, type Random, systemClock } from "../time/clock.js";
import type { RetryBudgetOptions } from "./retry-budget.js";

export interface RetryEvent {
  /** Fully qualified method name, e.g. "vcluster.api.v1.VClusterService/GetVCluster". */
  procedure: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  error: ConnectError;
  /** How long the client waits before the next attempt. */
  delayMs: number;
}

export interface RetryOptions {
  /** Attempts per call, including the first. Default 3; 1 disables retries. */
  maxAttempts?: number;
  /** Upper bound of the first backoff delay. Default 100 ms. */
  baseDelayMs?: number;
  /** Upper bound of the first backoff delay after ResourceExhausted (the server is overloaded). Default 1000 ms. */
  throttledBaseDelayMs?: number;
  /** No backoff delay exceeds this (a server retry-delay hint may). Default 20 000 ms. */
  maxDelayMs?: number;
  /**
   * Timeout of each attempt, clamped to the time left of the call's total timeout.
   * Default: none, each attempt may use all the time that is left.
   */
  attemptTimeoutMs?: number;
  /** Token bucket shared by all calls of one client, so an outage does not multiply the load. */
  budget?: RetryBudgetOptions;
  /**
   * Decides whether a failed mutation that is neither read-only nor protected by a request id
   * can be retried: only when the error proves the server did not process the request.
   */
  isNotProcessed?: (error: ConnectError) => boolean;
  /** Called before each backoff sleep. */
  onRetry?: (event: RetryEvent) => void;
  /** Injected time source (tests). */
  clock?: Clock;
  /** Injected random source for jitter (tests). */
  random?: Random;
}

export const retryDefaults = {
  maxAttempts: 3,
  baseDelayMs: 100,
  throttledBaseDelayMs: 1000,
  maxDelayMs: 20_000,
} as const;

export type ResolvedRetryOptions = Required<Omit<RetryOptions, "attemptTimeoutMs" | "budget" | "onRetry">> &
  Pick<RetryOptions, "attemptTimeoutMs" | "budget" | "onRetry">;

export function resolveRetryOptions(
  options: RetryOptions,
  isNotProcessed: (error: ConnectError) => boolean,
): ResolvedRetryOptions {
  return {
    ...retryDefaults,
    isNotProcessed,
    clock: systemClock,
    random: Math.random,
    ...withoutUndefined(options),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
