import { clone } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, SnapshotSchema, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { compareSnapshotKeys, compareVClusterKeys, snapshotCursor, timestampToMs, vclusterCursor } from "./cursors.js";
import { assertPageLimit, matchesSnapshotFilter, matchesVClusterFilter } from "./matching.js";
import { SmallestK } from "./smallest.js";
import { TransactionalStore } from "./transactional-store.js";
import type {
  IdempotencyRecord,
  ListResult,
  SnapshotCursor,
  SnapshotFilter,
  StoredEvent,
  StoreOptions,
  StoreTx,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";
import { HistoryExpiredError, NameConflictError } from "./types.js";

interface StoredSnapshot {
  snapshot: Snapshot;
  content: Uint8Array | undefined;
}

/**
 * A store that keeps everything in process memory, for tests and ephemeral servers.
 *
 * Writes apply in place and push their inverse onto an undo log; rollback replays the log
 * backwards, so a failed transaction leaves nothing behind. Stored objects are private
 * copies that are never mutated after being stored, which lets the event history share them.
 */
export class MemoryStore extends TransactionalStore {
  readonly #vclusters = new Map<string, VCluster>();
  readonly #vclusterIdsByName = new Map<string, string>();
  readonly #snapshots = new Map<string, StoredSnapshot>();
  readonly #snapshotIdsByName = new Map<string, string>();
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  // The working version moves inside a transaction; readers see the committed one.
  #version = 0;
  #committedVersion = 0;
  #oldestRetained = 0;
  // history[historyStart + i] has version oldestRetained + 1 + i; versions are contiguous
  // because every version is produced by exactly one event.
  #history: StoredEvent[] = [];
  #historyStart = 0;
  #undo: (() => void)[] = [];
  readonly #savepoints: number[] = [];

  constructor(options: StoreOptions = {}) {
    super(options);
  }

  protected readonly tx: StoreTx = {
    getVCluster: (namespace, name) => {
      const id = this.#vclusterIdsByName.get(nameKey(namespace, name));
      return id === undefined ? undefined : this.#copyOut(id);
    },
    getVClusterById: (id) => this.#copyOut(id),
    putVCluster: (vcluster) => this.#putVCluster(vcluster),
    deleteVCluster: (id) => this.#deleteVCluster(id),
    listVClusters: (filter, order, after, limit) => this.#listVClusters(filter, order, after, limit),
    getSnapshot: (id) => copySnapshot(this.#snapshots.get(id)?.snapshot),
    getSnapshotByName: (namespace, name) => {
      const id = this.#snapshotIdsByName.get(nameKey(namespace, name));
      return id === undefined ? undefined : copySnapshot(this.#snapshots.get(id)?.snapshot);
    },
    putSnapshot: (snapshot, content) => this.#putSnapshot(snapshot, content),
    getSnapshotContent: (id) => this.#snapshots.get(id)?.content?.slice(),
    deleteSnapshot: (id) => this.#deleteSnapshot(id),
    listSnapshots: (filter, after, limit) => this.#listSnapshots(filter, after, limit),
    snapshotsExpiringBefore: (time) => this.#snapshotsExpiringBefore(time),
    getIdempotency: (key) => copyRecord(this.#idempotency.get(key)),
    putIdempotency: (record) => this.#set(this.#idempotency, record.key, copyRecord(record)),
    deleteIdempotencyBefore: (time) => {
      let deleted = 0;
      for (const [key, record] of this.#idempotency) {
        if (record.createTime.getTime() < time.getTime()) {
          this.#set(this.#idempotency, key, undefined);
          deleted++;
        }
      }
      return deleted;
    },
  };

  currentVersion(): number {
    return this.#committedVersion;
  }

  oldestRetainedVersion(): number {
    return this.#oldestRetained;
  }

  eventsAfter(version: number, limit?: number): StoredEvent[] {
    this.assertOpen();
    if (version < this.#oldestRetained) throw new HistoryExpiredError(version, this.#oldestRetained);
    if (limit !== undefined) assertPageLimit(limit);
    const from = this.#historyStart + Math.floor(version - this.#oldestRetained);
    const to = limit === undefined ? this.#history.length : Math.min(this.#history.length, from + limit);
    return this.#history
      .slice(from, to)
      .map((event) => ({ ...event, vcluster: clone(VClusterSchema, event.vcluster) }));
  }

  protected beginTransaction(): void {
    this.#undo = [];
  }

  protected commitTransaction(events: readonly StoredEvent[]): void {
    this.#undo = [];
    this.#committedVersion = this.#version;
    this.#history.push(...events);
    const excess = this.#history.length - this.#historyStart - this.historyLimit;
    if (excess > 0) {
      this.#historyStart += excess;
      this.#oldestRetained += excess;
      // Compact only once half the array is dead, so trimming stays amortised O(1) per event.
      if (this.#historyStart > this.#history.length / 2) {
        this.#history = this.#history.slice(this.#historyStart);
        this.#historyStart = 0;
      }
    }
  }

  protected rollbackTransaction(): void {
    this.#unwindTo(0);
    this.#savepoints.length = 0;
  }

  protected beginSavepoint(depth: number): void {
    this.#savepoints[depth] = this.#undo.length;
  }

  protected releaseSavepoint(depth: number): void {
    this.#savepoints.length = depth;
  }

  protected rollbackSavepoint(depth: number): void {
    this.#unwindTo(this.#savepoints[depth] ?? 0);
    this.#savepoints.length = depth;
  }

  protected closeStore(): void {
    this.#vclusters.clear();
    this.#snapshots.clear();
    this.#idempotency.clear();
    this.#history = [];
  }

  #unwindTo(length: number): void {
    while (this.#undo.length > length) this.#undo.pop()?.();
  }

  /** Sets (or with undefined, deletes) a map entry, logging how to undo it. */
  #set<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
    const had = map.has(key);
    const previous = map.get(key);
    this.#undo.push(() => {
      if (had) map.set(key, previous as V);
      else map.delete(key);
    });
    if (value === undefined) map.delete(key);
    else map.set(key, value);
  }

  #nextVersion(): number {
    const previous = this.#version;
    this.#undo.push(() => {
      this.#version = previous;
    });
    this.#version = previous + 1;
    return this.#version;
  }

  #copyOut(id: string): VCluster | undefined {
    const stored = this.#vclusters.get(id);
    return stored === undefined ? undefined : clone(VClusterSchema, stored);
  }

  #putVCluster(vcluster: VCluster): VCluster {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    const key = nameKey(vcluster.namespace, vcluster.name);
    const holder = this.#vclusterIdsByName.get(key);
    if (holder !== undefined && holder !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, holder);
    }
    const existing = this.#vclusters.get(vcluster.id);
    const version = this.#nextVersion();
    const stored = clone(VClusterSchema, vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    if (existing !== undefined)
      this.#set(this.#vclusterIdsByName, nameKey(existing.namespace, existing.name), undefined);
    this.#set(this.#vclusterIdsByName, key, vcluster.id);
    this.#set(this.#vclusters, vcluster.id, stored);
    this.recordEvent({
      resourceVersion: version,
      type: existing === undefined ? WatchEventType.ADDED : WatchEventType.MODIFIED,
      vcluster: stored,
    });
    return clone(VClusterSchema, stored);
  }

  #deleteVCluster(id: string): VCluster | undefined {
    const existing = this.#vclusters.get(id);
    if (existing === undefined) return undefined;
    const version = this.#nextVersion();
    const final = clone(VClusterSchema, existing);
    final.annotations[Annotations.resourceVersion] = String(version);
    this.#set(this.#vclusterIdsByName, nameKey(existing.namespace, existing.name), undefined);
    this.#set(this.#vclusters, id, undefined);
    this.recordEvent({ resourceVersion: version, type: WatchEventType.DELETED, vcluster: final });
    return clone(VClusterSchema, final);
  }

  // One pass that counts the matches and keeps only the page (plus one, to learn hasMore):
  // sorting every match on each call made a page cost O(n log n) — ~100 ms at 100 000
  // vclusters — where counting alone is a cheap O(n) scan.
  #listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): ListResult<VCluster> {
    assertPageLimit(limit);
    const page = new SmallestK<{ key: VClusterCursor; vcluster: VCluster }>(limit + 1, (a, b) =>
      compareVClusterKeys(order, a.key, b.key),
    );
    let total = 0;
    for (const vcluster of this.#vclusters.values()) {
      if (!matchesVClusterFilter(filter, vcluster)) continue;
      total++;
      const key = vclusterCursor(vcluster);
      if (after === undefined || compareVClusterKeys(order, key, after) > 0) page.offer({ key, vcluster });
    }
    const kept = page.sorted();
    return {
      items: kept.slice(0, limit).map((m) => clone(VClusterSchema, m.vcluster)),
      total,
      hasMore: kept.length > limit,
    };
  }

  #putSnapshot(snapshot: Snapshot, content: Uint8Array | undefined): void {
    if (snapshot.id === "") throw new TypeError("snapshot.id is required");
    const key = nameKey(snapshot.namespace, snapshot.name);
    const holder = this.#snapshotIdsByName.get(key);
    if (holder !== undefined && holder !== snapshot.id) {
      throw new NameConflictError("snapshot", snapshot.namespace, snapshot.name, holder);
    }
    const existing = this.#snapshots.get(snapshot.id);
    if (existing !== undefined) {
      this.#set(this.#snapshotIdsByName, nameKey(existing.snapshot.namespace, existing.snapshot.name), undefined);
    }
    this.#set(this.#snapshotIdsByName, key, snapshot.id);
    this.#set(this.#snapshots, snapshot.id, {
      snapshot: clone(SnapshotSchema, snapshot),
      content: content === undefined ? existing?.content : content.slice(),
    });
  }

  #deleteSnapshot(id: string): boolean {
    const existing = this.#snapshots.get(id);
    if (existing === undefined) return false;
    this.#set(this.#snapshotIdsByName, nameKey(existing.snapshot.namespace, existing.snapshot.name), undefined);
    this.#set(this.#snapshots, id, undefined);
    return true;
  }

  // Same single pass as #listVClusters: count everything, keep only the page.
  #listSnapshots(filter: SnapshotFilter, after: SnapshotCursor | undefined, limit: number): ListResult<Snapshot> {
    assertPageLimit(limit);
    const page = new SmallestK<{ key: SnapshotCursor; snapshot: Snapshot }>(limit + 1, (a, b) =>
      compareSnapshotKeys(a.key, b.key),
    );
    let total = 0;
    for (const { snapshot } of this.#snapshots.values()) {
      if (!matchesSnapshotFilter(filter, snapshot)) continue;
      total++;
      const key = snapshotCursor(snapshot);
      if (after === undefined || compareSnapshotKeys(key, after) > 0) page.offer({ key, snapshot });
    }
    const kept = page.sorted();
    return {
      items: kept.slice(0, limit).map((m) => clone(SnapshotSchema, m.snapshot)),
      total,
      hasMore: kept.length > limit,
    };
  }

  #snapshotsExpiringBefore(time: Date): Snapshot[] {
    const limit = time.getTime();
    return [...this.#snapshots.values()]
      .map((stored) => stored.snapshot)
      .filter((snapshot) => snapshot.expireTime !== undefined && timestampToMs(snapshot.expireTime) <= limit)
      .sort((a, b) => timestampToMs(a.expireTime) - timestampToMs(b.expireTime) || compareIds(a.id, b.id))
      .map((snapshot) => clone(SnapshotSchema, snapshot));
  }
}

// Names and namespaces are DNS labels, so they never contain the separator.
function nameKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copySnapshot(snapshot: Snapshot | undefined): Snapshot | undefined {
  return snapshot === undefined ? undefined : clone(SnapshotSchema, snapshot);
}

function copyRecord(record: IdempotencyRecord | undefined): IdempotencyRecord | undefined {
  if (record === undefined) return undefined;
  return {
    key: record.key,
    fingerprint: record.fingerprint,
    response: record.response.slice(),
    createTime: new Date(record.createTime.getTime()),
  };
}
