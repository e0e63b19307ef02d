/** The wait ran out of time; `lastObserved` is the newest state seen (undefined if none). */
export class WaitTimeoutError<T> extends Error {
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
    readonly lastObserved: T | undefined,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${target}`);
    this.name = "WaitTimeoutError";
  }
}

/** The object reached a state from which the awaited one cannot follow (e.g. phase ERROR). */
export class WaitFailedError<T> extends Error {
  constructor(
    readonly target: string,
    /** Machine-readable reason, e.g. the vcluster's status.reason ("ProviderFailed"). */
    readonly reason: string,
    message: string,
    readonly lastObserved: T | undefined,
  ) {
    super(`${target}: ${message}`);
    this.name = "WaitFailedError";
  }
}
