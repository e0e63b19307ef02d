export interface RetryBudgetOptions {
  /** Tokens the bucket holds when full. Default 500. */
  capacity?: number;
  /** Tokens a retry takes. Default 5. */
  retryCost?: number;
  /** Tokens a retry after a timeout takes (timeouts hint at overload). Default 10. */
  timeoutRetryCost?: number;
  /** Tokens a call that succeeded at once gives back. Default 1. */
  successRefill?: number;
}

export const retryBudgetDefaults = { capacity: 500, retryCost: 5, timeoutRetryCost: 10, successRefill: 1 } as const;

/**
 * Client-wide token bucket (the AWS SDK's "retry quota"): retries spend tokens and successes
 * earn them back, so during an outage retries dry up instead of multiplying the load.
 */
export class RetryBudget {
  private readonly options: Required<RetryBudgetOptions>;
  private tokens: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.options = { ...retryBudgetDefaults, ...options };
    this.tokens = this.options.capacity;
  }

  get available(): number {
    return this.tokens;
  }

  /** Takes the cost of one retry; returns the amount taken, or undefined when the budget is spent. */
  acquire(afterTimeout: boolean): number | undefined {
    const cost = afterTimeout ? this.options.timeoutRetryCost : this.options.retryCost;
    if (this.tokens < cost) return undefined;
    this.tokens -= cost;
    return cost;
  }

  /** Records a successful call: refunds what its last retry took, or a small refill when it needed none. */
  succeeded(lastRetryCost: number | undefined): void {
    const refill = lastRetryCost ?? this.options.successRefill;
    this.tokens = Math.min(this.options.capacity, this.tokens + refill);
  }
}
