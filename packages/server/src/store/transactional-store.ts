import { AsyncLocalStorage } from "node:async_hooks";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { freezeDeep } from "./frozen.js";
import type {
  HistoryEntry,
  HistoryKind,
  IdempotencyRecord,
  ListResult,
  OperationRecord,
  SnapshotCursor,
  SnapshotFilter,
  Store,
  StoredEvent,
  StoreOptions,
  StoreReader,
  StoreTraits,
  StoreTx,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";
import { DEFAULT_HISTORY_LIMIT, type HistoryExpiredError } from "./types.js";

type Listener = (events: readonly StoredEvent[]) => void;

/** One open transaction of a SerialStore: its own operations, its own events. */
export interface SerialTransaction {
  readonly tx: StoreTx;
  /** Events recorded so far, oldest first. */
  readonly events: readonly StoredEvent[];
  /** Durable at once, or (group commit) kept for the group's one durable commit. */
  commit(): void;
  rollback(): void;
}

/**
 * Group commit: transactions that finish while others are queued share one commit, and
 * commits share syncs. Each member is answered, and its events published, only once its commit
 * is durable; if the commit fails, every member fails and none of their writes remains.
 */
export interface GroupCommit {
  /** Whether a group is open (a transaction committed into it and it was not yet committed). */
  open(): boolean;
  /**
   * Commits the open group. Throws (having rolled it all back) when it could not. Returns
   * nothing when the commit is durable at once, or a promise that settles when it is; such
   * promises settle in commit order, and once one fails the store can promise nothing more.
   */
  flush(): Promise<void> | undefined;
  /** Whether the open group was lost (the database rolled it back by itself); its members fail. */
  lost(): boolean;
}

interface Group {
  readonly events: StoredEvent[][];
  readonly durable: Promise<void>;
  settle(error?: unknown): void;
}

/**
 * Delivers committed events to subscribers, errors kept from the committer. The events are
 * frozen and shared by every subscriber: none can change what another one gets (a write throws),
 * and a commit costs no copy per subscriber (each waiting CreateVCluster is one).
 */
export class Subscribers {
  // Wrapper objects, so that one function subscribed twice is two independent subscriptions.
  readonly #listeners = new Set<{ listener: Listener; onGap: ((gap: HistoryExpiredError) => void) | undefined }>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  add(listener: Listener, onGap?: (gap: HistoryExpiredError) => void): () => void {
    const entry = { listener, onGap };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  publish(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const shared = Object.freeze(events.map((event) => freezeDeep(event)));
    for (const entry of [...this.#listeners]) {
      // A listener may unsubscribe another one while we are dispatching.
      if (!this.#listeners.has(entry)) continue;
      try {
        entry.listener(shared);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Tells every subscriber that events were lost to this process (see Store.subscribe). */
  gap(gap: HistoryExpiredError): void {
    for (const entry of [...this.#listeners]) {
      if (!this.#listeners.has(entry)) continue;
      try {
        entry.onGap?.(gap);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

export function historyLimitOf(options: StoreOptions): number {
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) {
    throw new RangeError(`historyLimit must be a non-negative integer, got ${historyLimit}`);
  }
  return historyLimit;
}

/**
 * The base of the single-process stores (memory, SQLite): transactions run one at a time, in
 * the order they were asked for, so a transaction that awaits never sees another one's
 * uncommitted writes, and commit order is resource-version order. Reads on the store wait
 * their turn too. Subclasses open transactions (`begin`); this class orders them, publishes
 * events after commit and refuses re-entrant use that would wait for itself forever.
 */
export abstract class SerialStore implements Store {
  readonly traits: StoreTraits = { shared: false };
  protected readonly historyLimit: number;
  readonly #subscribers: Subscribers;
  readonly #inside = new AsyncLocalStorage<true>();
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  protected constructor(options: StoreOptions = {}) {
    this.historyLimit = historyLimitOf(options);
    this.#subscribers = new Subscribers(options.onListenerError ?? reportListenerError);
  }

  protected abstract begin(readOnly: boolean): SerialTransaction;
  protected abstract closeStore(): void;
  protected abstract committedVersion(): number;
  protected abstract oldestRetained(): number;
  protected abstract committedEventsAfter(version: number, limit?: number): StoredEvent[];
  /** A committed vcluster, frozen, read at once (only called while the store is quiet). */
  protected abstract peekCommitted(
    key: { id: string } | { namespace: string; name: string },
  ): Readonly<VCluster> | undefined;

  protected assertOpen(): void {
    if (this.#closed) throw new Error("store is closed");
    if (this.#broken)
      throw new Error("store stopped: a commit could not be made durable", { cause: this.#broken.error });
  }

  /** Runs `work` when every earlier transaction has finished. */
  #serialise<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inside.getStore()) {
      return Promise.reject(
        new Error("store.transaction was called inside a transaction; use the transaction's tx instead"),
      );
    }
    this.#queued += 1;
    const run = this.#tail.then(async () => {
      this.#queued -= 1;
      this.#running = true;
      try {
        return await this.#inside.run(true, work);
      } finally {
        this.#running = false;
        // Nothing else is waiting: the open group is complete.
        if (this.#queued === 0 && this.#group) this.#flush(this.#group);
      }
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Before the first write of a group, waits for the I/O of this event-loop turn, so that the
   * requests that arrived together queue their transactions behind it and share its commit. The
   * group then runs back to back and commits as soon as nothing more is queued: the database
   * stays locked only while its members run, never across a wait for more work.
   */
  #gateGroup(): void {
    // Only an idle store waits: behind running or queued work, the write joins their group anyway.
    if (this.#gated || !this.groupCommit || this.#running || this.#queued > 0) return;
    this.#gated = true;
    const turn = new Promise<void>((resolve) => this.#inside.exit(() => setImmediate(resolve)));
    this.#tail = this.#tail
      .then(() => turn)
      .then(() => {
        this.#gated = false;
      });
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#run(fn, false);
  }

  async #run<T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean): Promise<T> {
    if (!readOnly && !this.#inside.getStore()) this.#gateGroup();
    let group: Group | undefined;
    let unsynced: Promise<void> | undefined;
    const result = await this.#serialise(async () => {
      this.assertOpen();
      const open = this.begin(readOnly);
      let value: T;
      try {
        value = await fn(open.tx);
        this.assertOpen();
        open.commit();
      } catch (error) {
        if (!this.#closed) open.rollback();
        if (this.groupCommit?.lost()) this.#group?.settle(error);
        throw error;
      }
      if (this.groupCommit?.open()) {
        // A read inside an open group may have seen its writes: it too waits until they are durable.
        group = this.#joinGroup();
        group.events.push(open.events as StoredEvent[]);
      } else {
        this.#subscribers.publish(open.events);
        // A read after a commit that is not durable yet may have seen it: it waits as well.
        unsynced = this.#unsynced;
      }
      return value;
    });
    if (group) await group.durable;
    else if (unsynced) await unsynced;
    return result;
  }

  /** Set by stores that commit in groups (see #gateGroup). */
  protected readonly groupCommit: GroupCommit | undefined = undefined;

  #group: Group | undefined;
  // The newest commit that is not durable yet: it settles once it and every earlier one are.
  #unsynced: Promise<void> | undefined;
  // Why the store stopped: a commit that could not be made durable.
  #broken: { error: unknown } | undefined;
  // Serialised work asked for and not yet started; whether a group's start is being delayed.
  #queued = 0;
  #running = false;
  #gated = false;

  #joinGroup(): Group {
    if (this.#group) return this.#group;
    let settle: (error?: unknown) => void = () => {};
    const durable = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    const group: Group = {
      events: [],
      durable,
      settle: (error) => {
        if (this.#group === group) this.#group = undefined;
        settle(error);
      },
    };
    // Callers handle the rejection; this keeps an unobserved one from being reported.
    durable.catch(() => undefined);
    this.#group = group;
    return group;
  }

  #flush(group: Group): void {
    if (this.#group !== group) return;
    let durable: Promise<void> | undefined;
    try {
      if (this.#closed) throw new Error("store is closed");
      durable = this.groupCommit?.flush();
    } catch (error) {
      group.settle(error);
      return;
    }
    // Committed: the next write opens a new group, while this one may still wait for its sync.
    this.#group = undefined;
    if (durable === undefined) {
      this.#published(group);
      return;
    }
    const unsynced = durable.then(
      () => this.#published(group),
      (error: unknown) => {
        this.#broken ??= { error };
        group.settle(error);
        throw error;
      },
    );
    unsynced.catch(() => undefined);
    this.#unsynced = unsynced;
    const forget = () => {
      if (this.#unsynced === unsynced) this.#unsynced = undefined;
    };
    unsynced.then(forget, forget);
  }

  // Subscribers have a commit's events by the time its caller hears it committed.
  #published(group: Group): void {
    for (const events of group.events) this.#subscribers.publish(events);
    group.settle();
  }

  /** A read on its own: one consistent view, no writes. */
  read<T>(fn: (tx: StoreReader) => Promise<T>): Promise<T> {
    return this.#run(fn, true);
  }

  // A single-process store publishes every commit itself: its subscribers never miss one.
  subscribe(listener: Listener, onGap?: (gap: HistoryExpiredError) => void): () => void {
    return this.#subscribers.add(listener, onGap);
  }

  healthy(): boolean {
    return !this.#closed && this.#broken === undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let transactions already asked for finish first (the last of them commits the open group),
    // and their commits become durable.
    await this.#serialise(async () => undefined).catch(() => undefined);
    await this.#unsynced?.catch(() => undefined);
    this.#closed = true;
    this.#subscribers.clear();
    this.closeStore();
  }

  currentVersion(): Promise<number> {
    return this.read(async () => this.committedVersion());
  }

  oldestRetainedVersion(): Promise<number> {
    return this.read(async () => this.oldestRetained());
  }

  eventsAfter(version: number, limit?: number): Promise<StoredEvent[]> {
    return this.read(async () => this.committedEventsAfter(version, limit));
  }

  getVCluster(namespace: string, name: string): Promise<VCluster | undefined> {
    return this.read((tx) => tx.getVCluster(namespace, name));
  }

  getVClusterById(id: string): Promise<VCluster | undefined> {
    return this.read((tx) => tx.getVClusterById(id));
  }

  peekVCluster(namespace: string, name: string): Promise<Readonly<VCluster> | undefined> {
    if (this.#quiet()) return settle(() => this.peekCommitted({ namespace, name }));
    return this.read((tx) => tx.peekVCluster(namespace, name));
  }

  peekVClusterById(id: string): Promise<Readonly<VCluster> | undefined> {
    if (this.#quiet()) return settle(() => this.peekCommitted({ id }));
    return this.read((tx) => tx.peekVClusterById(id));
  }

  /**
   * Whether a read may skip the queue: no transaction is running or waiting, and no commit is
   * waiting to be made durable, so what the store holds is exactly what was committed. The
   * reads of a read-only load then never queue behind one another.
   */
  #quiet(): boolean {
    return (
      !this.#running &&
      this.#queued === 0 &&
      !this.#gated &&
      this.#group === undefined &&
      this.#unsynced === undefined &&
      this.#broken === undefined &&
      !this.#closed
    );
  }

  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>> {
    return this.read((tx) => tx.listVClusters(filter, order, after, limit));
  }

  peekVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<Readonly<VCluster>>> {
    return this.read((tx) => tx.peekVClusters(filter, order, after, limit));
  }

  getSnapshot(id: string): Promise<Snapshot | undefined> {
    return this.read((tx) => tx.getSnapshot(id));
  }

  getSnapshotByName(namespace: string, name: string): Promise<Snapshot | undefined> {
    return this.read((tx) => tx.getSnapshotByName(namespace, name));
  }

  getSnapshotContent(id: string): Promise<Uint8Array | undefined> {
    return this.read((tx) => tx.getSnapshotContent(id));
  }

  listSnapshots(
    filter: SnapshotFilter,
    after: SnapshotCursor | undefined,
    limit: number,
  ): Promise<ListResult<Snapshot>> {
    return this.read((tx) => tx.listSnapshots(filter, after, limit));
  }

  snapshotsExpiringBefore(time: Date): Promise<Snapshot[]> {
    return this.read((tx) => tx.snapshotsExpiringBefore(time));
  }

  getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    return this.read((tx) => tx.getIdempotency(key));
  }

  getOperation(vclusterId: string): Promise<OperationRecord | undefined> {
    return this.read((tx) => tx.getOperation(vclusterId));
  }

  listHistory(kind: HistoryKind, vclusterId: string, afterSequence: number, limit: number): Promise<HistoryEntry[]> {
    return this.read((tx) => tx.listHistory(kind, vclusterId, afterSequence, limit));
  }
}

/** Refuses writes in a read-only transaction. */
export function readOnlyGuard(tx: StoreTx): StoreTx {
  const refuse = () => Promise.reject(new Error("write in a read-only transaction"));
  return {
    ...tx,
    putVCluster: refuse,
    deleteVCluster: refuse,
    putSnapshot: refuse,
    deleteSnapshot: refuse,
    putIdempotency: refuse,
    deleteIdempotencyBefore: refuse,
    putOperation: refuse,
    deleteOperation: refuse,
    claimOperations: refuse,
    renewLeases: refuse,
    claimHousekeeping: refuse,
    appendHistory: refuse,
  };
}

/** The result of a synchronous read as a promise; what it throws becomes the rejection. */
function settle<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (error) {
    return Promise.reject(error);
  }
}

export function reportListenerError(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), { code: "STORE_LISTENER_ERROR" });
}
