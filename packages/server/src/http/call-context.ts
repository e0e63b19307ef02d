import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { createContextValues, type HandlerContext } from "@connectrpc/connect";
import { callErrorListeners } from "./call-error.js";

/** A call's context on the fast path, with what the fast path does to it. */
export interface CallContext extends HandlerContext {
  /** Aborts the call's signal (once). */
  abort(reason: unknown): void;
  /** Tells the call's error listeners (see onCallError) what it failed with. */
  failed(error: Error): void;
}

/**
 * The calls a shutdown signal must abort. One listener on the signal for all of them: adding
 * and removing an event listener per call costs more than the rest of building its context.
 */
export class ShutdownLink {
  readonly #live = new Set<AbortController>();
  readonly #signal: AbortSignal | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    signal?.addEventListener(
      "abort",
      () => {
        for (const controller of this.#live) controller.abort(signal.reason);
        this.#live.clear();
      },
      { once: true },
    );
  }

  add(controller: AbortController): void {
    if (this.#signal?.aborted) controller.abort(this.#signal.reason);
    else if (this.#signal) this.#live.add(controller);
  }

  delete(controller: AbortController): void {
    this.#live.delete(controller);
  }
}

export interface CallShape {
  service: DescService;
  method: DescMethodUnary;
  protocolName: string;
  url: string;
  requestHeader: Headers;
  responseHeader: Headers;
  responseTrailer: Headers;
}

/**
 * The HandlerContext connect's createHandlerContext would make for a call without a deadline,
 * built directly: it skips copying the request headers into another Headers object and linking
 * a deadline signal that never fires.
 */
export function callContext(shape: CallShape, shutdown: ShutdownLink): CallContext {
  const controller = new AbortController();
  shutdown.add(controller);
  const listeners: ((error: Error) => void)[] = [];
  const values = createContextValues();
  values.set(callErrorListeners, listeners);
  return {
    ...shape,
    requestMethod: "POST",
    signal: controller.signal,
    timeoutMs: () => undefined,
    values,
    abort(reason: unknown) {
      shutdown.delete(controller);
      if (!controller.signal.aborted) controller.abort(reason);
    },
    failed(error: Error) {
      for (const listener of listeners) listener(error);
    },
  };
}
