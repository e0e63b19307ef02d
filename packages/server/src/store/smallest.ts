/**
 * Keeps the `k` smallest of the items offered to it, under `compare`: one page of a listing
 * without sorting the whole collection. Candidates are buffered and pruned back to k each time
 * the buffer doubles, and anything not smaller than the current k-th item is rejected with a
 * single comparison, so n offers cost O(n + k log k · n/k) instead of the O(n log n) of a full sort.
 */
export class SmallestK<T> {
  readonly #k: number;
  readonly #compare: (a: T, b: T) => number;
  #buffer: T[] = [];
  /** The k-th smallest item seen so far, once at least k were kept. */
  #worst: T | undefined;

  constructor(k: number, compare: (a: T, b: T) => number) {
    if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    this.#k = k;
    this.#compare = compare;
  }

  offer(item: T): void {
    if (this.#worst !== undefined && this.#compare(item, this.#worst) >= 0) return;
    this.#buffer.push(item);
    if (this.#buffer.length >= 2 * this.#k) this.#prune();
  }

  /** The kept items, smallest first (at most k). */
  sorted(): T[] {
    this.#prune();
    return this.#buffer.slice();
  }

  #prune(): void {
    this.#buffer.sort(this.#compare);
    if (this.#buffer.length >= this.#k) {
      this.#buffer.length = this.#k;
      this.#worst = this.#buffer[this.#k - 1];
    }
  }
}
