import { ConnectError } from "@connectrpc/connect";

/**
 * The final error of a call that was attempted more than once. It keeps the last attempt's
 * code, message, metadata and details (so every guard and `errorDetail` work unchanged) and
 * adds the history, which is what one needs to tell a flaky network from a broken request.
 */
export class RetriedCallError extends ConnectError {
  /** How many attempts were made, including the last. */
  readonly attempts: number;
  /** The errors of the earlier attempts, oldest first. */
  readonly previousErrors: readonly ConnectError[];

  // ConnectError's own instanceof check accepts any ConnectError; this one must be exact.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === "object" &&
      value !== null &&
      Object.prototype.isPrototypeOf.call(RetriedCallError.prototype, value)
    );
  }

  constructor(
    last: ConnectError,
    previousErrors: readonly ConnectError[],
    note?: string,
    attempts = previousErrors.length + 1,
  ) {
    const suffix = `(after ${attempts} attempts${note ? `; ${note}` : ""})`;
    super(last.rawMessage ? `${last.rawMessage} ${suffix}` : suffix, last.code, last.metadata, undefined, last);
    // ConnectError's instanceof check relies on this name for subclasses.
    this.name = "ConnectError";
    this.details = last.details;
    this.isWireError = last.isWireError;
    this.attempts = attempts;
    this.previousErrors = previousErrors;
  }
}

/** Attempt count and earlier errors of a failed call; a single attempt when it was not retried. */
export function attemptHistory(error: unknown): { attempts: number; previousErrors: readonly ConnectError[] } {
  if (error instanceof RetriedCallError) return { attempts: error.attempts, previousErrors: error.previousErrors };
  return { attempts: 1, previousErrors: [] };
}
