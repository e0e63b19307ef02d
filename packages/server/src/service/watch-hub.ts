import { Code, ConnectError } from "@connectrpc/connect";
import { apiError } from "../errors.js";
import type { HistoryExpiredError, Store, StoredEvent } from "../store/index.js";

/**
 * The documented answer to a watch that cannot be continued from `requested`: the history no
 * longer holds what follows it, so the client lists again and watches from the list's version.
 */
export function resourceVersionExpired(requested: number, oldest: number): ConnectError {
  return apiError(
    Code.OutOfRange,
    "RESOURCE_VERSION_EXPIRED",
    `resource_version ${requested} is older than the retained history; list again and watch from the list's version`,
    { field: "resource_version", metadata: { oldest_retained_version: String(oldest) } },
  );
}

// Streams with new events wake together once the turn that committed them is over: a burst of
// commits in one turn wakes each stream once, and it then sends them all in one go (one write),
// rather than once per commit.
let toWake: Watcher[] | undefined;

function wakeSoon(watcher: Watcher): void {
  if (toWake === undefined) {
    toWake = [];
    setImmediate(wakeAll);
  }
  toWake.push(watcher);
}

function wakeAll(): void {
  const watchers = toWake ?? [];
  toWake = undefined;
  for (const watcher of watchers) watcher.notify();
}

/** Events a watcher may buffer while it reads its starting point. */
const STARTING_BUFFER_LIMIT = 100_000;

/**
 * One open watch stream as the hub sees it: a bounded queue fed by store commits. It is
 * registered before the stream reads its starting point (a listing or a replay) and buffers
 * every event until `begin` says where that point was, so no commit can fall in between. From
 * then on each event is translated as it arrives into what the stream sends (`T`), so the
 * queue holds only what will be sent.
 */
export class Watcher<T = unknown> {
  // What is not yet taken: queue[head] onwards, each with its event's version (taking by
  // index keeps a long burst linear).
  private queue: T[] = [];
  private versions: number[] = [];
  private head = 0;
  // Events committed before `begin`, not yet translated.
  private buffered: StoredEvent[] | undefined = [];
  /** Highest version the hub has offered this watcher (matching or not). */
  seenVersion = 0;
  ended: { error?: ConnectError } | undefined;
  private wake: (() => void) | undefined;
  private wakeScheduled = false;
  private translate: (event: StoredEvent) => T | undefined = () => undefined;

  constructor(
    readonly subject: string,
    private readonly limit: number,
  ) {}

  /**
   * The stream's starting point is `version` (its listing's version, or the version it
   * resumes from followed by `replay`): events up to it are dropped, later ones are
   * translated in version order; those that translate to nothing are not queued.
   */
  begin(version: number, translate: (event: StoredEvent) => T | undefined, replay: readonly StoredEvent[] = []): void {
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    this.translate = translate;
    this.seenVersion = version;
    if (this.ended) return;
    for (const event of replay) this.offer(event);
    for (const event of buffered) this.offer(event);
  }

  offer(event: StoredEvent): void {
    if (this.ended) return;
    if (this.buffered !== undefined) {
      this.buffered.push(event);
      if (this.buffered.length > STARTING_BUFFER_LIMIT) this.fallBehind(STARTING_BUFFER_LIMIT);
      return;
    }
    if (event.resourceVersion <= this.seenVersion) return;
    this.seenVersion = event.resourceVersion;
    // Events the stream would drop anyway must not count against the queue limit: otherwise a
    // burst of unrelated changes cuts off a filtered watcher that is keeping up.
    const out = this.translate(event);
    if (out === undefined) return;
    this.queue.push(out);
    this.versions.push(event.resourceVersion);
    if (this.pending > this.limit) {
      this.fallBehind(this.limit);
      return;
    }
    if (this.wake !== undefined && !this.wakeScheduled) {
      this.wakeScheduled = true;
      wakeSoon(this);
    }
  }

  /**
   * The version a bookmark may carry now: the newest one with no queued event at or below it.
   * A client skips every later event at or below the bookmark it saw, so a bookmark must never
   * run ahead of an event still waiting in the queue (e.g. changes committed while the initial
   * state was streaming).
   */
  bookmarkVersion(): number {
    const next = this.versions[this.head];
    return next === undefined ? this.seenVersion : next - 1;
  }

  /** How many translated events wait to be taken. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Up to `max` of the oldest translated events not yet taken, removing them. */
  takeSome(max: number): T[] {
    const end = Math.min(this.queue.length, this.head + max);
    if (end <= this.head) return [];
    const taken = this.queue.slice(this.head, end);
    this.head = end;
    this.compact();
    return taken;
  }

  /** The oldest translated event not yet taken, removing it. */
  take(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const out = this.queue[this.head] as T;
    this.head += 1;
    this.compact();
    return out;
  }

  // Drops the taken prefix once it is most of the array: amortised O(1) per event.
  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.versions = this.versions.slice(this.head);
      this.head = 0;
    }
  }

  // A watcher that cannot keep up is cut off instead of slowing commits or other watchers.
  private fallBehind(limit: number): void {
    this.queue = [];
    this.versions = [];
    this.buffered = undefined;
    this.head = 0;
    this.end(
      apiError(
        Code.ResourceExhausted,
        "RESOURCE_EXHAUSTED",
        `watch fell more than ${limit} events behind; re-watch from the last resource version`,
      ),
    );
  }

  end(error?: ConnectError): void {
    if (this.ended) return;
    this.ended = error ? { error } : {};
    this.notify();
  }

  /** Resolves when something happened (an event, the end) or `interrupt` was called. */
  waitForChange(): Promise<void> {
    if (this.pending > 0 || this.ended) return Promise.resolve();
    // An earlier wait that nobody awaits any more (its stream woke for a heartbeat) ends here.
    this.notify();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Ends the current wait without an event (the stream is being cancelled). */
  interrupt(): void {
    this.notify();
  }

  /** Wakes the stream if it waits (see wakeSoon). */
  notify(): void {
    this.wakeScheduled = false;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Fans store commits out to watchers. It subscribes to the store once (which delivers every
 * committed change in version order, for shared stores those of other replicas too); each
 * is offered to every watcher.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher<unknown>>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    store: Store,
    private readonly options: { queueLimit: number; maxPerSubject: number },
  ) {
    this.unsubscribe = store.subscribe(
      (events) => {
        // Event by event, every watcher in turn: watchers that share their translation (see
        // SharedHeld) are offered each event one after another.
        for (const event of events) {
          for (const watcher of this.watchers) watcher.offer(event);
        }
      },
      (gap) => this.lost(gap),
    );
  }

  /**
   * The store's feed lost events (this replica fell behind the retained history): no open
   * stream can be continued exactly, so each ends as a watch resumed from an expired version.
   */
  private lost(gap: HistoryExpiredError): void {
    for (const watcher of this.watchers) {
      watcher.end(resourceVersionExpired(watcher.seenVersion || gap.requestedVersion, gap.oldestRetainedVersion));
    }
  }

  /** A new watcher, buffering until its stream calls `begin`. */
  register<T>(subject: string): Watcher<T> {
    if (this.closed) throw apiError(Code.Unavailable, "UNAVAILABLE", "server is shutting down", { retryDelayMs: 1000 });
    let count = 0;
    for (const w of this.watchers) if (w.subject === subject) count += 1;
    if (count >= this.options.maxPerSubject) {
      throw apiError(
        Code.ResourceExhausted,
        "RESOURCE_EXHAUSTED",
        `too many open watches for ${subject} (limit ${this.options.maxPerSubject})`,
        { metadata: { limit: String(this.options.maxPerSubject) }, retryDelayMs: 5000 },
      );
    }
    const watcher = new Watcher<T>(subject, this.options.queueLimit);
    this.watchers.add(watcher);
    return watcher;
  }

  release(watcher: Watcher<unknown>): void {
    this.watchers.delete(watcher);
  }

  get size(): number {
    return this.watchers.size;
  }

  /** Ends every stream cleanly (OK status) and refuses new ones: graceful shutdown. */
  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    this.unsubscribe();
  }
}

export { ConnectError };
