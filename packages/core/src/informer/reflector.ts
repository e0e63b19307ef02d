import { ConnectError } from "@connectrpc/connect";
import type { VCluster } from "@open-vcluster/api";
import { isResourceVersionExpired } from "../errors/guards.js";
import type { Page } from "../paginate/paginated.js";
import { Backoff } from "../time/backoff.js";
import { abortReason, type Clock, type Random, sleep } from "../time/clock.js";
import { endsWatch } from "../watch/permanent-errors.js";
import { compareResourceVersions, resourceVersionOf } from "../watch/resource-version.js";
import type { VClusterWatch, WatchOptions } from "../watch/vcluster-watch.js";
import type { CacheEvent, VClusterCacheStore } from "./cache-store.js";

export interface ReflectorSource {
  /** Every page of the list, in order. */
  listPages(signal: AbortSignal): AsyncIterable<Page<VCluster>>;
  /** A resumable watch from `resourceVersion` with the same filters as the list. */
  watch(resourceVersion: string, options: Pick<WatchOptions, "signal" | "onBookmark" | "onStatus">): VClusterWatch;
}

export interface ReflectorOptions {
  clock: Clock;
  random: Random;
  /** Backoff between failed lists. */
  backoff: { initialMs: number; maxMs: number };
  onChanges(changes: CacheEvent[]): void;
  onSynced(): void;
}

/**
 * Keeps a cache store equal to the server: list, then watch from the list's version; when the
 * version has expired, list again and hand the differences to the consumer.
 *
 * The watch starts from the version the server read the first page at (a response header):
 * every change the later pages may not show has a greater version and is replayed, and the
 * store drops replayed changes it already has. If that version has already left the server's
 * history (more changes than it keeps happened during the list), the reflector
 * falls back to a watch from "" (the full state as ADDED, then changes) and, at its first
 * heartbeat, drops every cached object the stream did not mention.
 */
export class Reflector {
  constructor(
    private readonly source: ReflectorSource,
    private readonly store: VClusterCacheStore,
    private readonly options: ReflectorOptions,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const listBackoff = new Backoff(this.options.backoff, this.options.random);
    let fullResync = false;
    for (;;) {
      let startVersion: string;
      if (fullResync) {
        startVersion = "";
      } else {
        try {
          startVersion = await this.list(signal);
          listBackoff.reset();
        } catch (error) {
          if (signal.aborted) throw abortReason(signal);
          if (endsWatch(error)) throw error;
          await sleep(this.options.clock, listBackoff.next(), signal);
          continue;
        }
      }
      const outcome = await this.watch(startVersion, fullResync, signal);
      // An expired version straight after a list means the history is shorter than the list's
      // age: list-then-watch cannot catch up, so resynchronise from the stream itself.
      fullResync = outcome === "expired-at-once";
    }
  }

  private async list(signal: AbortSignal): Promise<string> {
    const items: VCluster[] = [];
    let startVersion: string | undefined;
    for await (const page of this.source.listPages(signal)) {
      // The first page's read version: every change later pages may already show has a
      // greater version, so the watch replays it and the store drops what it already has.
      // Servers that do not send one fall back to the newest object on the first page.
      if (startVersion === undefined) {
        startVersion = page.resourceVersion ?? (page.items.length > 0 ? newestVersion(page.items) : undefined);
      }
      items.push(...page.items);
    }
    this.emit(this.store.replace(items));
    this.options.onSynced();
    return startVersion ?? "";
  }

  private async watch(
    startVersion: string,
    fullResync: boolean,
    signal: AbortSignal,
  ): Promise<"expired" | "expired-at-once"> {
    const mentioned = new Set<string>();
    let resyncing = fullResync;
    let delivered = false;
    let reconnected = false;
    const watch = this.source.watch(startVersion, {
      signal,
      onStatus: (status) => {
        if (status === "reconnecting") reconnected = true;
      },
      onBookmark: () => {
        if (!resyncing) return;
        resyncing = false;
        this.emit(this.store.retainOnly(mentioned));
        this.options.onSynced();
      },
    });
    try {
      for await (const event of watch) {
        delivered = true;
        if (resyncing) mentioned.add(event.vcluster.id);
        const change = this.store.apply(event);
        if (change) this.emit([change]);
      }
    } catch (error) {
      if (isResourceVersionExpired(error))
        return delivered || reconnected || fullResync ? "expired" : "expired-at-once";
      throw error;
    }
    // Only an abort ends a watch without an error.
    throw signal.aborted ? abortReason(signal) : new ConnectError("watch ended unexpectedly");
  }

  private emit(changes: CacheEvent[]): void {
    if (changes.length > 0) this.options.onChanges(changes);
  }
}

function newestVersion(items: VCluster[]): string {
  let newest = "";
  for (const item of items) {
    const version = resourceVersionOf(item);
    if (compareResourceVersions(version, newest) > 0) newest = version;
  }
  return newest;
}
