import { readyMessagesOf } from "./ready-messages.js";

/** How a stream of messages ended, as an interceptor sees it. */
export type StreamEnd =
  /** Every message was taken. */
  | { kind: "done" }
  /** The messages failed with `error` (after `mapError`, when one was given). */
  | { kind: "failed"; error: unknown }
  /** The consumer stopped taking messages before the end (`return()`). */
  | { kind: "stopped" };

interface Hook {
  onEnd: (end: StreamEnd) => void;
  mapError: (error: unknown) => unknown;
}

/**
 * `messages` passed through unchanged, with `onEnd` told once how they ended; `mapError`
 * replaces an error on its way to the consumer. Interceptors use it to learn when a stream
 * ends: wrapping the messages in an async generator for that costs a generator turn per
 * message per interceptor, this costs one promise callback per message however many
 * interceptors use it (layers over layers are one layer with their hooks in order).
 */
export function onStreamEnd<T>(
  messages: AsyncIterable<T>,
  onEnd: (end: StreamEnd) => void,
  mapError: (error: unknown) => unknown = (error) => error,
): AsyncIterable<T> {
  if (messages instanceof EndObserved)
    return new EndObserved(messages.source, [...messages.hooks, { onEnd, mapError }]);
  return new EndObserved(messages, [{ onEnd, mapError }]);
}

/** A stream with its end observed by hooks, innermost first (as nested layers would run). */
class EndObserved<T> implements AsyncIterable<T> {
  constructor(
    readonly source: AsyncIterable<T>,
    readonly hooks: readonly Hook[],
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const inner = this.source[Symbol.asyncIterator]();
    const takeReady = readyMessagesOf(inner);
    const hooks = this.hooks;
    let ended = false;
    const end = (how: StreamEnd) => {
      if (ended) return;
      ended = true;
      for (const hook of hooks) hook.onEnd(how);
    };
    // Each layer maps the error the layer inside it passed on, and hears of that one.
    const fail = (error: unknown): never => {
      let mapped = error;
      if (!ended) {
        ended = true;
        for (const hook of hooks) {
          mapped = hook.mapError(mapped);
          hook.onEnd({ kind: "failed", error: mapped });
        }
      }
      throw mapped;
    };
    return {
      next: () =>
        inner.next().then((result) => {
          if (result.done) end({ kind: "done" });
          return result;
        }, fail),
      // Taking what is ready ends nothing: it passes straight through.
      ...(takeReady ? { takeReady } : {}),
      // As a generator's finally would: after the messages underneath have stopped.
      return: async (value?: unknown) => {
        let result: IteratorResult<T>;
        try {
          result = inner.return ? await inner.return(value) : { done: true, value };
        } catch (error) {
          return fail(error);
        }
        end({ kind: "stopped" });
        return result;
      },
    };
  }
}
