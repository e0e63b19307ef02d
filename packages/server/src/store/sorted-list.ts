/**
 * Items kept sorted under `compare` (which must order distinct items strictly: keys are
 * unique), in chunks of bounded size: an insert or delete moves at most one chunk's worth of
 * references, and a page is read by seeking to its start in O(log n) and walking on. The memory
 * store keeps one per listing order so that a page never visits the whole collection.
 */
export class SortedList<T> {
  readonly #compare: (a: T, b: T) => number;
  readonly #chunkSize: number;
  #chunks: T[][] = [];
  #size = 0;

  constructor(compare: (a: T, b: T) => number, chunkSize = 512) {
    this.#compare = compare;
    this.#chunkSize = chunkSize;
  }

  get size(): number {
    return this.#size;
  }

  insert(item: T): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push([item]);
      this.#size = 1;
      return;
    }
    const c = Math.min(this.#chunkAtOrAfter(item), this.#chunks.length - 1);
    const chunk = this.#chunks[c] as T[];
    chunk.splice(this.#indexIn(chunk, item), 0, item);
    this.#size += 1;
    if (chunk.length > 2 * this.#chunkSize) this.#chunks.splice(c + 1, 0, chunk.splice(this.#chunkSize));
  }

  /** Removes the item that compares equal to `item`; false when there is none. */
  delete(item: T): boolean {
    const c = this.#chunkAtOrAfter(item);
    const chunk = this.#chunks[c];
    if (chunk === undefined) return false;
    const i = this.#indexIn(chunk, item);
    if (i >= chunk.length || this.#compare(chunk[i] as T, item) !== 0) return false;
    chunk.splice(i, 1);
    this.#size -= 1;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
    return true;
  }

  /** The items after `probe` in order (all of them without one): `probe` compares like an item. */
  *after(probe?: T): Generator<T> {
    let c = 0;
    let i = 0;
    if (probe !== undefined) {
      c = this.#chunkAtOrAfter(probe);
      const chunk = this.#chunks[c];
      if (chunk === undefined) return;
      i = this.#indexIn(chunk, probe);
      if (i < chunk.length && this.#compare(chunk[i] as T, probe) === 0) i += 1;
    }
    for (; c < this.#chunks.length; c++, i = 0) {
      const chunk = this.#chunks[c] as T[];
      for (; i < chunk.length; i++) yield chunk[i] as T;
    }
  }

  clear(): void {
    this.#chunks = [];
    this.#size = 0;
  }

  /** The first chunk whose last item is not before `item` (chunks.length when none). */
  #chunkAtOrAfter(item: T): number {
    let low = 0;
    let high = this.#chunks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const chunk = this.#chunks[mid] as T[];
      if (this.#compare(chunk[chunk.length - 1] as T, item) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The first index in `chunk` whose item is not before `item`. */
  #indexIn(chunk: T[], item: T): number {
    let low = 0;
    let high = chunk.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#compare(chunk[mid] as T, item) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
