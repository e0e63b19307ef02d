import { clone } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { VClusterSchema } from "@open-vcluster/api";
import type {
  IdempotencyRecord,
  ListResult,
  SnapshotCursor,
  SnapshotFilter,
  Store,
  StoredEvent,
  StoreOptions,
  StoreTx,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";
import { DEFAULT_HISTORY_LIMIT } from "./types.js";

type Listener = (events: StoredEvent[]) => void;

/**
 * What both stores share: transaction nesting, the events of the open transaction, publishing
 * after commit, and the Store methods that run outside a transaction. Subclasses provide the
 * StoreTx operations (`tx`) and the begin/commit/rollback/savepoint primitives.
 */
export abstract class TransactionalStore implements Store {
  protected readonly historyLimit: number;
  readonly #onListenerError: (error: unknown) => void;
  #depth = 0;
  #pending: StoredEvent[] = [];
  // Wrapper objects, so that one function subscribed twice is two independent subscriptions.
  readonly #listeners = new Set<{ listener: Listener }>();
  #closed = false;

  protected constructor(options: StoreOptions = {}) {
    const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 0) {
      throw new RangeError(`historyLimit must be a non-negative integer, got ${historyLimit}`);
    }
    this.historyLimit = historyLimit;
    this.#onListenerError = options.onListenerError ?? reportListenerError;
  }

  /** The operations of the open transaction; only called while one is open (or for reads). */
  protected abstract readonly tx: StoreTx;
  protected abstract beginTransaction(): void;
  /** Makes the transaction durable; `events` are the ones it recorded, oldest first. */
  protected abstract commitTransaction(events: readonly StoredEvent[]): void;
  protected abstract rollbackTransaction(): void;
  protected abstract beginSavepoint(depth: number): void;
  protected abstract releaseSavepoint(depth: number): void;
  protected abstract rollbackSavepoint(depth: number): void;
  protected abstract closeStore(): void;
  abstract currentVersion(): number;
  abstract oldestRetainedVersion(): number;
  abstract eventsAfter(version: number, limit?: number): StoredEvent[];

  /** Subclasses call this for every vcluster write; the event is published after commit. */
  protected recordEvent(event: StoredEvent): void {
    this.#pending.push(event);
  }

  protected get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /** Runs a multi-statement read; a subclass can give it a consistent snapshot. */
  protected readConsistently<T>(read: () => T): T {
    return read();
  }

  protected assertOpen(): void {
    if (this.#closed) throw new Error("store is closed");
  }

  transaction<T>(fn: (tx: StoreTx) => T): T {
    this.assertOpen();
    if (this.#depth > 0) return this.#nestedTransaction(fn);
    this.beginTransaction();
    this.#depth = 1;
    let result: T;
    let events: StoredEvent[];
    try {
      result = fn(this.tx);
      assertSynchronous(result);
      events = this.#pending;
      this.commitTransaction(events);
    } catch (error) {
      this.rollbackTransaction();
      throw error;
    } finally {
      this.#depth = 0;
      this.#pending = [];
    }
    if (events.length > 0) this.#publish(events);
    return result;
  }

  #nestedTransaction<T>(fn: (tx: StoreTx) => T): T {
    const depth = this.#depth + 1;
    const mark = this.#pending.length;
    this.beginSavepoint(depth);
    this.#depth = depth;
    try {
      const result = fn(this.tx);
      assertSynchronous(result);
      this.releaseSavepoint(depth);
      return result;
    } catch (error) {
      this.rollbackSavepoint(depth);
      this.#pending.length = mark;
      throw error;
    } finally {
      this.#depth = depth - 1;
    }
  }

  subscribe(listener: Listener): () => void {
    const entry = { listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  #publish(events: StoredEvent[]): void {
    for (const entry of [...this.#listeners]) {
      // A listener may unsubscribe another one while we are dispatching.
      if (!this.#listeners.has(entry)) continue;
      try {
        // Each listener gets its own copies: one cannot corrupt what another sees.
        entry.listener(events.map(copyEvent));
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    if (this.#depth > 0) throw new Error("cannot close the store inside a transaction");
    this.#closed = true;
    this.#listeners.clear();
    this.closeStore();
  }

  // Reads outside a transaction need no write lock; writes run in a transaction of their own.

  getVCluster(namespace: string, name: string): VCluster | undefined {
    this.assertOpen();
    return this.tx.getVCluster(namespace, name);
  }

  getVClusterById(id: string): VCluster | undefined {
    this.assertOpen();
    return this.tx.getVClusterById(id);
  }

  putVCluster(vcluster: VCluster): VCluster {
    return this.transaction((tx) => tx.putVCluster(vcluster));
  }

  deleteVCluster(id: string): VCluster | undefined {
    return this.transaction((tx) => tx.deleteVCluster(id));
  }

  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): ListResult<VCluster> {
    this.assertOpen();
    return this.readConsistently(() => this.tx.listVClusters(filter, order, after, limit));
  }

  getSnapshot(id: string): Snapshot | undefined {
    this.assertOpen();
    return this.tx.getSnapshot(id);
  }

  getSnapshotByName(namespace: string, name: string): Snapshot | undefined {
    this.assertOpen();
    return this.tx.getSnapshotByName(namespace, name);
  }

  putSnapshot(snapshot: Snapshot, content?: Uint8Array): void {
    this.transaction((tx) => tx.putSnapshot(snapshot, content));
  }

  getSnapshotContent(id: string): Uint8Array | undefined {
    this.assertOpen();
    return this.tx.getSnapshotContent(id);
  }

  deleteSnapshot(id: string): boolean {
    return this.transaction((tx) => tx.deleteSnapshot(id));
  }

  listSnapshots(filter: SnapshotFilter, after: SnapshotCursor | undefined, limit: number): ListResult<Snapshot> {
    this.assertOpen();
    return this.readConsistently(() => this.tx.listSnapshots(filter, after, limit));
  }

  snapshotsExpiringBefore(time: Date): Snapshot[] {
    this.assertOpen();
    return this.tx.snapshotsExpiringBefore(time);
  }

  getIdempotency(key: string): IdempotencyRecord | undefined {
    this.assertOpen();
    return this.tx.getIdempotency(key);
  }

  putIdempotency(record: IdempotencyRecord): void {
    this.transaction((tx) => tx.putIdempotency(record));
  }

  deleteIdempotencyBefore(time: Date): number {
    return this.transaction((tx) => tx.deleteIdempotencyBefore(time));
  }
}

function copyEvent(event: StoredEvent): StoredEvent {
  return { resourceVersion: event.resourceVersion, type: event.type, vcluster: clone(VClusterSchema, event.vcluster) };
}

// A transaction cannot span an await: other callers would interleave with its writes, and it
// would commit before the awaited work ran. Reject promises so the mistake fails loudly.
function assertSynchronous(result: unknown): void {
  if (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then === "function") {
    throw new TypeError("transaction callbacks must be synchronous; the transaction was rolled back");
  }
}

function reportListenerError(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error), { code: "STORE_LISTENER_ERROR" });
}
