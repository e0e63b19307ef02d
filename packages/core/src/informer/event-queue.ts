/**
 * Unbounded single-consumer queue bridging push callbacks to an async iterator. Unbounded on
 * purpose: an informer must not drop changes, and a consumer that cannot keep up should see
 * memory grow rather than silently lose state.
 */
export class EventQueue<T> implements AsyncIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the iteration after the queued items, normally or with an error. */
  end(error?: { error: unknown }): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiter && this.items.length === 0) {
      const { resolve, reject } = this.waiter;
      this.waiter = undefined;
      if (error) reject(error.error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) {
      return this.failure ? Promise.reject(this.failure.error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }
}
