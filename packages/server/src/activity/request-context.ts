import { AsyncLocalStorage } from "node:async_hooks";

/** The mutations the timeline records, by the name of their RPC's verb. */
export type OperationVerb = "create" | "update" | "delete" | "scale" | "suspend" | "resume" | "snapshot" | "restore";

/** The request a transaction runs for: who asked for what, and which vclusters it already recorded. */
export interface RequestContext {
  verb: OperationVerb;
  actor: string;
  startedAtMs: number;
  /** Vclusters whose request was recorded in a committed transaction. */
  readonly recorded: Set<string>;
}

const current = new AsyncLocalStorage<RequestContext>();

/**
 * Runs a handler as the request `context`. Background work the handler starts inherits it;
 * `recorded` keeps that work from recording the request a second time.
 */
export function runAsRequest<T>(context: RequestContext, fn: () => Promise<T>): Promise<T> {
  return current.run(context, fn);
}

export function currentRequest(): RequestContext | undefined {
  return current.getStore();
}
