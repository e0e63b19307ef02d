import { createContextKey, type HandlerContext } from "@connectrpc/connect";

type Listener = (error: Error) => void;

/** A call's error listeners, on the road that calls them directly (the unary fast path). */
export const callErrorListeners = createContextKey<Listener[] | undefined>(undefined, {
  description: "listeners of the error a call fails with",
});

/**
 * Calls `listener` with the error a call fails with, before the error is written, so that it
 * may refine it in place. connect-node tells only by aborting the call's signal with it; the
 * fast path calls the listener itself, which spares every call an event listener.
 */
export function onCallError(ctx: HandlerContext, listener: Listener): void {
  const listeners = ctx.values.get(callErrorListeners);
  if (listeners) {
    listeners.push(listener);
    return;
  }
  ctx.signal.addEventListener(
    "abort",
    () => {
      const reason: unknown = ctx.signal.reason;
      // A call that ends normally aborts its signal with an AbortError.
      if (reason instanceof Error && reason.name !== "AbortError") listener(reason);
    },
    { once: true },
  );
}
