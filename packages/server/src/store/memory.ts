import { clone } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, SnapshotSchema, WatchEventType } from "@open-vcluster/api";
import { copyVCluster } from "./copy.js";
import { compareSnapshotKeys, compareVClusterKeys, snapshotCursor, timestampToMs, vclusterCursor } from "./cursors.js";
import { freezeDeep } from "./frozen.js";
import { assertPageLimit, matchesSnapshotFilter, matchesVClusterFilter } from "./matching.js";
import { SmallestK } from "./smallest.js";
import { SortedList } from "./sorted-list.js";
import { readOnlyGuard, SerialStore, type SerialTransaction } from "./transactional-store.js";
import type {
  ClaimRequest,
  HistoryAppend,
  HistoryEntry,
  HistoryEntryInit,
  HistoryKind,
  IdempotencyRecord,
  ListResult,
  OperationRecord,
  SnapshotCursor,
  SnapshotFilter,
  StoredEvent,
  StoreOptions,
  StoreTx,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";
import { HistoryExpiredError, NameConflictError, VersionConflictError } from "./types.js";

/** A stored vcluster with its sort key, as the listing indexes hold it. */
interface Entry {
  key: VClusterCursor;
  vcluster: VCluster;
}

const ORDERS: readonly VClusterOrder[] = ["name", "create_time", "-create_time"];
const byName = (a: Entry, b: Entry) => compareVClusterKeys("name", a.key, b.key);
// Most label pairs hold few vclusters: small chunks keep their inserts cheap.
const LABEL_CHUNK = 128;

interface Candidates {
  entries: Iterable<Entry>;
  size: number;
  exact: boolean;
  ordered?: SortedList<Entry>;
}

interface StoredSnapshot {
  snapshot: Snapshot;
  content: Uint8Array | undefined;
}

/**
 * A store that keeps everything in process memory, for tests and ephemeral servers.
 *
 * Transactions run one at a time (SerialStore). Writes apply in place and push their inverse
 * onto the transaction's undo log; rollback replays it backwards, so a failed transaction
 * leaves nothing behind. Stored objects are private copies, frozen once stored, which lets the
 * event history and peeks share them.
 */
export class MemoryStore extends SerialStore {
  readonly #vclusters = new Map<string, VCluster>();
  // Listing indexes, kept in step with #vclusters (and undone with it): one sorted list per
  // order, the ids per namespace, and per label pair its vclusters in name order (a selector
  // page in the default order then walks only as far as the page reaches).
  readonly #entries = new Map<string, Entry>();
  readonly #ordered = Object.fromEntries(
    ORDERS.map((order) => [order, new SortedList<Entry>((a, b) => compareVClusterKeys(order, a.key, b.key))]),
  ) as Record<VClusterOrder, SortedList<Entry>>;
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #byLabel = new Map<string, Map<string, SortedList<Entry>>>();
  readonly #vclusterIdsByName = new Map<string, string>();
  readonly #snapshots = new Map<string, StoredSnapshot>();
  readonly #snapshotIdsByName = new Map<string, string>();
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  readonly #operations = new Map<string, OperationRecord>();
  // Keyed by kind and vcluster id; each array is replaced, never changed, so undo restores it.
  readonly #histories = new Map<string, readonly HistoryEntry[]>();
  #operationSequence = 0;
  #housekeepingDueMs = 0;
  // The working version moves inside a transaction; readers see the committed one.
  #version = 0;
  #committedVersion = 0;
  #oldestRetained = 0;
  // history[historyStart + i] has version oldestRetained + 1 + i; versions are contiguous
  // because every version is produced by exactly one event.
  #history: StoredEvent[] = [];
  #historyStart = 0;
  // The open transaction's undo log (transactions never overlap).
  #undo: (() => void)[] = [];

  constructor(options: StoreOptions = {}) {
    super(options);
  }

  protected begin(readOnly: boolean): SerialTransaction {
    this.#undo = [];
    const events: StoredEvent[] = [];
    const tx = this.#operationsOf(events);
    return {
      tx: readOnly ? readOnlyGuard(tx) : tx,
      events,
      commit: () => this.#commit(events),
      rollback: () => this.#unwindTo(0),
    };
  }

  #operationsOf(events: StoredEvent[]): StoreTx {
    const sync =
      <A extends unknown[], R>(f: (...args: A) => R) =>
      (...args: A) => {
        try {
          return Promise.resolve(f(...args));
        } catch (error) {
          return Promise.reject(error);
        }
      };
    return {
      getVCluster: sync((namespace: string, name: string) => {
        const id = this.#vclusterIdsByName.get(nameKey(namespace, name));
        return id === undefined ? undefined : this.#copyOut(id);
      }),
      getVClusterById: sync((id: string) => this.#copyOut(id)),
      peekVCluster: sync((namespace: string, name: string) => this.peekCommitted({ namespace, name })),
      peekVClusterById: sync((id: string) => this.peekCommitted({ id })),
      putVCluster: sync((vcluster: VCluster, expected?: number) => this.#putVCluster(events, vcluster, expected)),
      deleteVCluster: sync((id: string, expected?: number) => this.#deleteVCluster(events, id, expected)),
      listVClusters: sync(
        (filter: VClusterFilter, order: VClusterOrder, after: VClusterCursor | undefined, limit: number) =>
          this.#listVClusters(filter, order, after, limit, copyVCluster),
      ),
      // Stored objects are frozen: a peek lists them as they are.
      peekVClusters: sync(
        (filter: VClusterFilter, order: VClusterOrder, after: VClusterCursor | undefined, limit: number) =>
          this.#listVClusters(filter, order, after, limit, (stored) => stored),
      ),
      getSnapshot: sync((id: string) => copySnapshot(this.#snapshots.get(id)?.snapshot)),
      getSnapshotByName: sync((namespace: string, name: string) => {
        const id = this.#snapshotIdsByName.get(nameKey(namespace, name));
        return id === undefined ? undefined : copySnapshot(this.#snapshots.get(id)?.snapshot);
      }),
      putSnapshot: sync((snapshot: Snapshot, content?: Uint8Array) => this.#putSnapshot(snapshot, content)),
      getSnapshotContent: sync((id: string) => this.#snapshots.get(id)?.content?.slice()),
      deleteSnapshot: sync((id: string) => this.#deleteSnapshot(id)),
      listSnapshots: sync((filter: SnapshotFilter, after: SnapshotCursor | undefined, limit: number) =>
        this.#listSnapshots(filter, after, limit),
      ),
      snapshotsExpiringBefore: sync((time: Date) => this.#snapshotsExpiringBefore(time)),
      getIdempotency: sync((key: string) => copyRecord(this.#idempotency.get(key))),
      putIdempotency: sync((record: IdempotencyRecord) => this.#set(this.#idempotency, record.key, copyRecord(record))),
      deleteIdempotencyBefore: sync((time: Date) => {
        let deleted = 0;
        for (const [key, record] of this.#idempotency) {
          if (record.createTime.getTime() < time.getTime()) {
            this.#set(this.#idempotency, key, undefined);
            deleted++;
          }
        }
        return deleted;
      }),
      getOperation: sync((vclusterId: string) => copyOperation(this.#operations.get(vclusterId))),
      putOperation: sync(
        (
          vclusterId: string,
          operation: OperationRecord["operation"],
          lease: { owner: string; leaseMs: number } | { waiting: true },
        ) => {
          const sequence = this.#operationSequence + 1;
          const previous = this.#operationSequence;
          this.#undo.push(() => {
            this.#operationSequence = previous;
          });
          this.#operationSequence = sequence;
          const record: OperationRecord =
            "waiting" in lease
              ? {
                  vclusterId,
                  operation: structuredClone(operation),
                  waiting: true,
                  owner: "",
                  leaseExpiresMs: 0,
                  sequence,
                }
              : {
                  vclusterId,
                  operation: structuredClone(operation),
                  waiting: false,
                  owner: lease.owner,
                  leaseExpiresMs: Date.now() + lease.leaseMs,
                  sequence,
                };
          this.#set(this.#operations, vclusterId, record);
          return copyOperation(record) as OperationRecord;
        },
      ),
      deleteOperation: sync((vclusterId: string, operationId?: string) => {
        const existing = this.#operations.get(vclusterId);
        if (!existing || (operationId !== undefined && existing.operation.id !== operationId)) return false;
        this.#set(this.#operations, vclusterId, undefined);
        return true;
      }),
      claimOperations: sync((request: ClaimRequest) => this.#claim(request)),
      renewLeases: sync((owner: string, ids: readonly string[], leaseMs: number) => {
        const held: string[] = [];
        for (const id of ids) {
          const record = this.#operations.get(id);
          if (!record || record.owner !== owner) continue;
          this.#set(this.#operations, id, { ...record, leaseExpiresMs: Date.now() + leaseMs });
          held.push(id);
        }
        return held;
      }),
      countActiveCreates: sync(() => countCreates(this.#operations.values())),
      claimHousekeeping: sync((intervalMs: number) => {
        const now = Date.now();
        if (now < this.#housekeepingDueMs) return false;
        const previous = this.#housekeepingDueMs;
        this.#undo.push(() => {
          this.#housekeepingDueMs = previous;
        });
        this.#housekeepingDueMs = now + intervalMs;
        return true;
      }),
      currentVersion: sync(() => this.#version),
      listHistory: sync((kind: HistoryKind, vclusterId: string, afterSequence: number, limit: number) => {
        assertPageLimit(limit);
        const entries = (this.#histories.get(historyKey(kind, vclusterId)) ?? []).filter(
          (e) => e.sequence > afterSequence,
        );
        return entries.slice(Math.max(0, entries.length - limit)).map((e) => ({ ...e, data: e.data.slice() }));
      }),
      appendHistory: sync(
        (kind: HistoryKind, vclusterId: string, entries: readonly HistoryEntryInit[], options: HistoryAppend) => {
          const key = historyKey(kind, vclusterId);
          const before = this.#histories.get(key) ?? [];
          const last = before.at(-1)?.sequence ?? 0;
          if (entries.length === 0) return last;
          const kept = options.replaceLast ? before.slice(0, -1) : [...before];
          entries.forEach((entry, i) => {
            kept.push({ sequence: last + 1 + i, timeMs: entry.timeMs, data: entry.data.slice() });
          });
          this.#set(this.#histories, key, kept.slice(Math.max(0, kept.length - options.keep)));
          return last + entries.length;
        },
      ),
    };
  }

  #claim(request: ClaimRequest): OperationRecord[] {
    const now = Date.now();
    const claimed: OperationRecord[] = [];
    const take = (record: OperationRecord) => {
      const leased = { ...record, waiting: false, owner: request.owner, leaseExpiresMs: now + request.leaseMs };
      this.#set(this.#operations, record.vclusterId, leased);
      claimed.push(copyOperation(leased) as OperationRecord);
    };
    const all = [...this.#operations.values()].sort((a, b) => a.sequence - b.sequence);
    for (const record of all) {
      if (claimed.length >= request.limit) break;
      if (record.waiting) continue;
      const expired = record.owner === "" || record.leaseExpiresMs <= now;
      if (expired || (request.takeOverLive && record.owner !== request.owner)) take(record);
    }
    const max = request.maxActiveCreates ?? 0;
    let free = max === 0 ? Number.POSITIVE_INFINITY : max - countCreates(this.#operations.values()).active;
    for (const record of all) {
      if (claimed.length >= request.limit || free <= 0) break;
      if (!record.waiting) continue;
      take(record);
      free -= 1;
    }
    return claimed;
  }

  protected committedVersion(): number {
    return this.#committedVersion;
  }

  protected oldestRetained(): number {
    return this.#oldestRetained;
  }

  protected committedEventsAfter(version: number, limit?: number): StoredEvent[] {
    if (version < this.#oldestRetained) throw new HistoryExpiredError(version, this.#oldestRetained);
    if (limit !== undefined) assertPageLimit(limit);
    const from = this.#historyStart + Math.floor(version - this.#oldestRetained);
    const to = limit === undefined ? this.#history.length : Math.min(this.#history.length, from + limit);
    return this.#history.slice(from, to).map((event) => ({ ...event, vcluster: copyVCluster(event.vcluster) }));
  }

  #commit(events: readonly StoredEvent[]): void {
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

  protected closeStore(): void {
    this.#vclusters.clear();
    this.#entries.clear();
    for (const list of Object.values(this.#ordered)) list.clear();
    this.#byNamespace.clear();
    this.#byLabel.clear();
    this.#snapshots.clear();
    this.#idempotency.clear();
    this.#operations.clear();
    this.#histories.clear();
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

  // Stored objects are frozen and never replaced in place: a peek hands out the object itself.
  protected peekCommitted(key: { id: string } | { namespace: string; name: string }): Readonly<VCluster> | undefined {
    const id = "id" in key ? key.id : this.#vclusterIdsByName.get(nameKey(key.namespace, key.name));
    return id === undefined ? undefined : this.#vclusters.get(id);
  }

  #copyOut(id: string): VCluster | undefined {
    const stored = this.#vclusters.get(id);
    return stored === undefined ? undefined : copyVCluster(stored);
  }

  #checkExpected(id: string, expected: number | undefined): VCluster | undefined {
    const existing = this.#vclusters.get(id);
    if (expected === undefined) return existing;
    const actual = existing === undefined ? 0 : Number(existing.annotations[Annotations.resourceVersion] ?? 0);
    if (actual !== expected) {
      throw new VersionConflictError(`vcluster ${id} is at version ${actual}, not the expected ${expected}`);
    }
    return existing;
  }

  #putVCluster(events: StoredEvent[], vcluster: VCluster, expected: number | undefined): VCluster {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    const key = nameKey(vcluster.namespace, vcluster.name);
    const holder = this.#vclusterIdsByName.get(key);
    if (holder !== undefined && holder !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, holder);
    }
    const existing = this.#checkExpected(vcluster.id, expected);
    const version = this.#nextVersion();
    const stored = copyVCluster(vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    freezeDeep(stored);
    if (existing !== undefined)
      this.#set(this.#vclusterIdsByName, nameKey(existing.namespace, existing.name), undefined);
    this.#set(this.#vclusterIdsByName, key, vcluster.id);
    this.#set(this.#vclusters, vcluster.id, stored);
    this.#reindex(vcluster.id, stored);
    events.push({
      resourceVersion: version,
      type: existing === undefined ? WatchEventType.ADDED : WatchEventType.MODIFIED,
      vcluster: stored,
    });
    return copyVCluster(stored);
  }

  #deleteVCluster(events: StoredEvent[], id: string, expected: number | undefined): VCluster | undefined {
    const existing = this.#checkExpected(id, expected);
    if (existing === undefined) return undefined;
    const version = this.#nextVersion();
    const final = copyVCluster(existing);
    final.annotations[Annotations.resourceVersion] = String(version);
    freezeDeep(final);
    this.#set(this.#vclusterIdsByName, nameKey(existing.namespace, existing.name), undefined);
    this.#set(this.#vclusters, id, undefined);
    this.#reindex(id, undefined);
    this.#set(this.#operations, id, undefined);
    this.#set(this.#histories, historyKey("event", id), undefined);
    this.#set(this.#histories, historyKey("usage", id), undefined);
    events.push({ resourceVersion: version, type: WatchEventType.DELETED, vcluster: final });
    return copyVCluster(final);
  }

  /** Moves vcluster `id` in the listing indexes to `stored` (undefined: out of them), undoably. */
  #reindex(id: string, stored: VCluster | undefined): void {
    const previous = this.#entries.get(id);
    const next = stored === undefined ? undefined : { key: vclusterCursor(stored), vcluster: stored };
    this.#undo.push(() => this.#placeEntry(id, next, previous));
    this.#placeEntry(id, previous, next);
  }

  #placeEntry(id: string, from: Entry | undefined, to: Entry | undefined): void {
    if (from !== undefined) {
      for (const list of Object.values(this.#ordered)) list.delete(from);
      removeFromIndex(this.#byNamespace, from.vcluster.namespace, id);
      for (const [key, value] of Object.entries(from.vcluster.labels)) {
        const values = this.#byLabel.get(key);
        const list = values?.get(value);
        if (values === undefined || list === undefined) continue;
        list.delete(from);
        if (list.size === 0) values.delete(value);
        if (values.size === 0) this.#byLabel.delete(key);
      }
      this.#entries.delete(id);
    }
    if (to !== undefined) {
      for (const list of Object.values(this.#ordered)) list.insert(to);
      addToIndex(this.#byNamespace, to.vcluster.namespace, id);
      for (const [key, value] of Object.entries(to.vcluster.labels)) {
        let values = this.#byLabel.get(key);
        if (values === undefined) {
          values = new Map();
          this.#byLabel.set(key, values);
        }
        let list = values.get(value);
        if (list === undefined) {
          list = new SortedList<Entry>(byName, LABEL_CHUNK);
          values.set(value, list);
        }
        list.insert(to);
      }
      this.#entries.set(id, to);
    }
  }

  /**
   * The entries a filter can only match among, from the smallest index that applies (a
   * namespace, a label's values under `=` or `in`); `ordered` when they come in name order (one
   * label pair), and `exact` when that index is the answer by itself (nothing else in the
   * filter). Undefined: no index applies.
   */
  #candidates(filter: VClusterFilter): Candidates | undefined {
    const sets: Candidates[] = [];
    const alone = (part: "namespace" | "labels") =>
      Object.keys(filter).every((field) => field === part || (filter as Record<string, unknown>)[field] === undefined);
    if (filter.namespace !== undefined) {
      const ids = this.#byNamespace.get(filter.namespace) ?? new Set<string>();
      sets.push({
        entries: this.#entriesOf(ids),
        size: ids.size,
        exact: filter.labels === undefined && alone("namespace"),
      });
    }
    const requirements = filter.labels?.requirements ?? [];
    for (const { key, operator, values } of requirements) {
      if (operator !== "=" && operator !== "in") continue;
      const byValue = this.#byLabel.get(key);
      const distinct = [...new Set(operator === "=" ? values.slice(0, 1) : values)];
      const lists = distinct.map((value) => byValue?.get(value)).filter((list) => list !== undefined);
      const ordered = distinct.length === 1 ? (lists[0] ?? new SortedList<Entry>(byName)) : undefined;
      sets.push({
        entries: ordered ? ordered.after() : lists.flatMap((list) => [...list.after()]),
        size: lists.reduce((sum, list) => sum + list.size, 0),
        exact: requirements.length === 1 && alone("labels"),
        ...(ordered ? { ordered } : {}),
      });
    }
    return sets.sort((a, b) => a.size - b.size)[0];
  }

  *#entriesOf(ids: Iterable<string>): Generator<Entry> {
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry !== undefined) yield entry;
    }
  }

  /**
   * A page from the smallest applicable index, or, when none applies, by walking the order's
   * sorted list from the cursor. In name order a namespace or one label pair is walked in order
   * from the cursor too, so the page costs what it returns; otherwise the candidates are
   * counted and the page kept in one pass over them. The exact total comes from the index's
   * size when it is the whole filter, or else from a counting pass.
   */
  #listVClusters<T extends Readonly<VCluster>>(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
    out: (stored: Readonly<VCluster>) => T,
  ): ListResult<T> {
    assertPageLimit(limit);
    const candidates = this.#candidates(filter);
    const probe = after === undefined ? undefined : ({ key: after } as Entry);
    const walk = (entries: Iterable<Entry>, stop: (entry: Entry) => boolean) => {
      const items: T[] = [];
      let hasMore = false;
      for (const entry of entries) {
        if (stop(entry)) break;
        if (!matchesVClusterFilter(filter, entry.vcluster)) continue;
        if (items.length === limit) {
          hasMore = true;
          break;
        }
        items.push(out(entry.vcluster));
      }
      return { items, hasMore };
    };
    const counted = (entries: Iterable<Entry>) => {
      let total = 0;
      for (const entry of entries) if (matchesVClusterFilter(filter, entry.vcluster)) total++;
      return total;
    };
    if (order === "name" && candidates?.ordered !== undefined) {
      const page = walk(candidates.ordered.after(probe), () => false);
      return { ...page, total: candidates.exact ? candidates.size : counted(candidates.entries) };
    }
    // Within one namespace in name order, the sorted list holds the namespace contiguously.
    if (candidates === undefined || (order === "name" && filter.namespace !== undefined && candidates.exact)) {
      const inNamespace = filter.namespace !== undefined && order === "name";
      const start =
        inNamespace && (after === undefined || after.namespace < (filter.namespace as string))
          ? ({ key: { namespace: filter.namespace, name: "", createTimeMs: 0, id: "" } } as Entry)
          : probe;
      const page = walk(
        this.#ordered[order].after(start),
        (entry) => inNamespace && entry.key.namespace !== filter.namespace,
      );
      let total: number;
      if (candidates?.exact) total = candidates.size;
      else if (isEmptyFilter(filter)) total = this.#vclusters.size;
      else total = counted(this.#entries.values());
      return { ...page, total };
    }
    const page = new SmallestK<Entry>(limit + 1, (a, b) => compareVClusterKeys(order, a.key, b.key));
    let total = 0;
    for (const entry of candidates.entries) {
      if (!matchesVClusterFilter(filter, entry.vcluster)) continue;
      total++;
      if (after === undefined || compareVClusterKeys(order, entry.key, after) > 0) page.offer(entry);
    }
    const kept = page.sorted();
    return {
      items: kept.slice(0, limit).map((m) => out(m.vcluster)),
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

function isEmptyFilter(filter: VClusterFilter): boolean {
  return Object.values(filter).every((value) => value === undefined || (Array.isArray(value) && value.length === 0));
}

function addToIndex<K>(index: Map<K, Set<string>>, key: K, id: string): void {
  let ids = index.get(key);
  if (ids === undefined) {
    ids = new Set();
    index.set(key, ids);
  }
  ids.add(id);
}

function removeFromIndex<K>(index: Map<K, Set<string>>, key: K, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}

// Names and namespaces are DNS labels, so they never contain the separator.
function nameKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

function historyKey(kind: HistoryKind, vclusterId: string): string {
  return `${kind}\u0000${vclusterId}`;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function _copyVCluster(vcluster: Readonly<VCluster>): VCluster {
  return _copyVCluster(vcluster);
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

function copyOperation(record: OperationRecord | undefined): OperationRecord | undefined {
  return record === undefined ? undefined : { ...record, operation: structuredClone(record.operation) };
}

export function countCreates(records: Iterable<OperationRecord>): { active: number; waiting: number } {
  let active = 0;
  let waiting = 0;
  for (const record of records) {
    if (record.operation.kind !== "create") continue;
    if (record.waiting) waiting++;
    else active++;
  }
  return { active, waiting };
}
