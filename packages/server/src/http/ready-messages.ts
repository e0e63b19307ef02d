/**
 * An optional extension of a stream's iterator: `takeReady` hands over, synchronously, messages
 * that are already waiting, so a transport that knows it (the server-streaming fast path) takes
 * a burst in one go instead of one `next()` (a promise, a generator turn) per message. Whoever
 * does not know it just calls `next()`; both see the same messages in the same order.
 */
export interface ReadyMessages<T> {
  /** Up to `max` messages that `next()` would give next without waiting; none when there are none. */
  takeReady(max: number): readonly T[];
}

/** `messages` with `takeReady` on its iterator. */
export function withReadyMessages<T>(
  messages: AsyncIterable<T>,
  takeReady: (max: number) => readonly T[],
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const inner = messages[Symbol.asyncIterator]();
      return {
        next: () => inner.next(),
        return: (value?: unknown) => (inner.return ? inner.return(value) : Promise.resolve({ done: true, value })),
        throw: (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
        takeReady,
      } as AsyncIterator<T> & ReadyMessages<T>;
    },
  };
}

/** The iterator's `takeReady`, when it has one. */
export function readyMessagesOf<T>(iterator: AsyncIterator<T>): ReadyMessages<T>["takeReady"] | undefined {
  const take = (iterator as Partial<ReadyMessages<T>>).takeReady;
  return typeof take === "function" ? take.bind(iterator) : undefined;
}
