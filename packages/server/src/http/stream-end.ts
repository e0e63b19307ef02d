/** How a stream of messages ended, as an interceptor sees it. */
export type StreamEnd =
  /** Every message was taken. */
  | { kind: "done" }
  /** The messages failed with `error` (after `mapError`, when one was given). */
  | { kind: "failed"; error: unknown }
  /** The consumer stopped taking messages before the end (`return()`). */
  | { kind: "stopped" };

/**
 * `messages` passed through unchanged, with `onEnd` told once how they ended; `mapError`
 * replaces an error on its way to the consumer. Interceptors use it to learn when a stream
 * ends: wrapping the messages in an async generator for that costs a generator turn per
 * message per interceptor, this costs one promise callback.
 */
export function onStreamEnd<T>(
  messages: AsyncIterable<T>,
  onEnd: (end: StreamEnd) => void,
  mapError: (error: unknown) => unknown = (error) => error,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = messages[Symbol.asyncIterator]();
      let ended = false;
      const end = (how: StreamEnd) => {
        if (ended) return;
        ended = true;
        onEnd(how);
      };
      const fail = (error: unknown): never => {
        const mapped = mapError(error);
        end({ kind: "failed", error: mapped });
        throw mapped;
      };
      return {
        next: () =>
          inner.next().then((result) => {
            if (result.done) end({ kind: "done" });
            return result;
          }, fail),
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
    },
  };
}
