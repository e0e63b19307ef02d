import { abortReason } from "../time/clock.js";

export interface Page<T> {
  items: T[];
  /** Token of the next page; "" on the last page. Store it to resume later. */
  nextPageToken: string;
  /** How many items match the query over all pages, as reported with this page. */
  totalCount: number;
  /** The resource version the server read this page at, when it says (ListVClusters does). */
  resourceVersion?: string;
}

/** Fetches the page that starts at `pageToken` ("" for the first). */
export type PageFetcher<T> = (pageToken: string, signal: AbortSignal | undefined) => Promise<Page<T>>;

export interface PaginateOptions {
  /** Stops the iteration; the pending page request is cancelled. */
  signal?: AbortSignal;
  /** Resume from a checkpoint: a `nextPageToken` from an earlier page. */
  pageToken?: string;
}

/** The server handed out a page token twice; following it would loop forever. */
export class RepeatedPageTokenError extends Error {
  constructor(readonly pageToken: string) {
    super(`the server returned page token "${pageToken}" twice; stopping instead of looping`);
    this.name = "RepeatedPageTokenError";
  }
}

/**
 * Lazily walks every page of a List call. Iterate it for items, use `pages()` for whole pages
 * (with their tokens, for checkpoints), or `toArray({ limit })` to collect a bounded number.
 */
export class Paginated<T> implements AsyncIterable<T> {
  constructor(
    private readonly fetchPage: PageFetcher<T>,
    private readonly options: PaginateOptions = {},
  ) {}

  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    const { signal } = this.options;
    let token = this.options.pageToken ?? "";
    const seen = new Set<string>([token]);
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const page = await this.fetchPage(token, signal);
      yield page;
      // An empty page with a token is legal (e.g. everything on it was filtered out): keep going.
      if (page.nextPageToken === "") return;
      if (seen.has(page.nextPageToken)) throw new RepeatedPageTokenError(page.nextPageToken);
      seen.add(page.nextPageToken);
      token = page.nextPageToken;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /**
   * Collects at most `limit` items, fetching no more pages than needed. The limit is required:
   * an unbounded collection of a large list is a memory hazard that should be a visible choice.
   */
  async toArray(options: { limit: number }): Promise<T[]> {
    const limit = options?.limit;
    if (typeof limit !== "number" || !(limit >= 0)) {
      throw new TypeError("toArray needs { limit }: the most items to collect (use Infinity to collect all)");
    }
    const items: T[] = [];
    if (limit === 0) return items;
    for await (const item of this) {
      items.push(item);
      if (items.length >= limit) break;
    }
    return items;
  }
}
