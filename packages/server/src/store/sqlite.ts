import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import { DatabaseSync } from "node:sqlite";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import type { LabelRequirement } from "@open-vcluster/core";
import { copyVCluster } from "./copy.js";
import { timestampToMs } from "./cursors.js";
import { DecodedVClusters, freezeDeep, KnownVClusters } from "./frozen.js";
import { assertPageLimit, drivingCandidates } from "./matching.js";
import { countCreates } from "./memory.js";
import {
  HISTORY_ROWS_PER_INSERT,
  historyInsert,
  jsLabels,
  jsVClusterLabels,
  LABEL_TALLY,
  NAMESPACE_TALLY,
  type Query,
  snapshotCountQuery,
  snapshotPageQuery,
  vclusterCountQuery,
  vclusterPageQuery,
} from "./sqlite-queries.js";
import { configureConnection, migrate } from "./sqlite-schema.js";
import { Tallies } from "./tallies.js";
import { type GroupCommit, readOnlyGuard, SerialStore, type SerialTransaction } from "./transactional-store.js";
import type {
  ClaimRequest,
  HistoryEntry,
  HistoryKind,
  IdempotencyRecord,
  LabelPredicate,
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
import { WalCheckpointer } from "./wal-checkpointer.js";
import { WalSync } from "./wal-sync.js";

type Row = Record<string, SQLOutputValue>;

/**
 * A durable store in one SQLite file (node:sqlite). Every committed transaction is synced to
 * the write-ahead log before transaction() returns, so an acknowledged write survives a crash.
 * The sync runs off the event loop (WalSync), and commits made while one runs share the next.
 *
 * Resource versions and the event history live in the same database as the objects and are
 * written in the same transaction, so they can never disagree. The connection is meant to be
 * the only writer: the version counter, totals, history bounds and the rows it read or wrote
 * are kept in memory (forgotten on rollback), and checkpoints run on a worker thread
 * (WalCheckpointer). Transactions take turns on the one connection (SerialStore).
 */
export class SqliteStore extends SerialStore {
  readonly #db: DatabaseSync;
  // Undefined for an in-memory database, which has nothing to sync.
  readonly #wal: WalSync | undefined;
  readonly #checkpointer: WalCheckpointer | undefined;
  readonly #statements = new Map<string, StatementSync>();
  // Every write goes through this process, so what it read and wrote can be kept.
  readonly #known = new KnownVClusters();
  // Operation rows by vcluster id, the same way (null: none).
  readonly #operations = new Map<string, Row | null>();
  // Listed rows, decoded once while their bytes stay the same (a list reads the rows anyway).
  readonly #decoded = new DecodedVClusters();
  #committedVersion = 0;
  #committedOldest = 0;
  // The newest version handed out, committed or not: this connection is the only writer, so the
  // counter lives here and reaches the meta row once per commit rather than once per write.
  #version = 0;
  // The same for the number of vclusters (the total of an unfiltered list).
  #vclusterCount = 0;
  #committedCount = 0;
  // Each history's first (at most) and last sequence, so that an append need not look them up.
  readonly #historyBounds = new Map<string, HistoryBounds>();

  constructor(path: string, options: StoreOptions = {}) {
    super(options);
    const inMemory = path === ":memory:";
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    try {
      configureConnection(this.#db, { inMemory });
      migrate(this.#db);
      const meta = this.#db
        .prepare("SELECT current_version, oldest_retained_version, vcluster_count FROM meta WHERE id = 1")
        .get();
      this.#version = this.#committedVersion = Number(meta?.current_version);
      this.#vclusterCount = this.#committedCount = Number(meta?.vcluster_count);
      this.#committedOldest = Number(meta?.oldest_retained_version);
      // An empty transaction applies a historyLimit lowered since the last run.
      this.#db.exec("BEGIN IMMEDIATE");
      this.#commit();
      this.#wal = inMemory ? undefined : new WalSync(`${path}-wal`);
      if (!inMemory) {
        // Checkpoints run on a worker thread, not in the COMMITs of this connection.
        this.#db.exec("PRAGMA wal_autocheckpoint = 0");
        this.#checkpointer = new WalCheckpointer(path, () => {
          if (this.#db.isOpen) this.#db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
        });
      }
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /**
   * Write transactions commit in groups: each runs in a savepoint of one open database
   * transaction, and the group's members share its COMMIT. The group is answered once the
   * write-ahead log is synced, and groups that commit during one sync share the next.
   * A read outside a group runs on its own; inside one it is a savepoint as well.
   */
  protected override readonly groupCommit: GroupCommit = {
    open: () => this.#groupMembers > 0 && this.#db.isTransaction,
    lost: () => !this.#db.isTransaction,
    flush: () => {
      this.#groupMembers = 0;
      try {
        this.#commit();
      } catch (error) {
        if (this.#db.isTransaction) this.#exec("ROLLBACK");
        this.#groupLost();
        throw error;
      }
      return this.#wal?.sync();
    },
  };
  // Members committed into the open database transaction, not yet durable.
  #groupMembers = 0;

  protected begin(readOnly: boolean): SerialTransaction {
    // A read outside a group needs no database transaction: this connection is the only writer
    // and runs one transaction at a time, so nothing changes between the read's statements.
    const standalone = readOnly && !this.#db.isTransaction;
    // The first member of a group is undone by rolling back the group; later ones by a savepoint.
    const first = !standalone && !this.#db.isTransaction;
    if (first) this.#exec("BEGIN IMMEDIATE");
    else if (!standalone) this.#exec("SAVEPOINT member");
    const events: StoredEvent[] = [];
    const tallies = new Tallies();
    const start = { version: this.#version, count: this.#vclusterCount };
    const tx = asyncTx(this.#txOf(events, tallies));
    return {
      tx: readOnly ? readOnlyGuard(tx) : tx,
      events,
      commit: () => {
        if (standalone) return;
        this.#writeTallies(tallies);
        if (!first) this.#exec("RELEASE member");
        this.#groupMembers += 1;
      },
      rollback: () => {
        if (standalone) return;
        // What this process remembers of uncommitted state may be undone: forget it.
        this.#forgetKnown();
        // SQLite may already have rolled back by itself (e.g. after SQLITE_FULL): then the
        // whole group is gone, and SerialStore fails its members.
        if (!this.#db.isTransaction) {
          this.#groupLost();
          return;
        }
        this.#version = start.version;
        this.#vclusterCount = start.count;
        if (first) {
          this.#exec("ROLLBACK");
          return;
        }
        this.#exec("ROLLBACK TO member");
        this.#exec("RELEASE member");
      },
    };
  }

  // The open group was rolled back: the counters are the committed ones again.
  #groupLost(): void {
    this.#groupMembers = 0;
    this.#version = this.#committedVersion;
    this.#vclusterCount = this.#committedCount;
    this.#forgetKnown();
  }

  #forgetKnown(): void {
    this.#known.clear();
    this.#operations.clear();
    this.#historyBounds.clear();
  }

  #txOf(events: StoredEvent[], tallies: Tallies): SyncTx {
    return {
      getVCluster: (namespace, name) => copyOf(this.#selectFrozen({ namespace, name })),
      getVClusterById: (id) => copyOf(this.#selectFrozen({ id })),
      // Inside a transaction: what it sees, its own writes included.
      peekVCluster: (namespace, name) => this.#selectFrozen({ namespace, name }),
      peekVClusterById: (id) => this.#selectFrozen({ id }),
      putVCluster: (vcluster, expected) => this.#putVCluster(events, tallies, vcluster, expected),
      deleteVCluster: (id, expected) => this.#deleteVCluster(events, tallies, id, expected),
      listVClusters: (filter, order, after, limit) => {
        // The transaction's own writes count in its lists.
        this.#writeTallies(tallies);
        return this.#listVClusters(filter, order, after, limit, (row) => fromBinary(VClusterSchema, row.data));
      },
      peekVClusters: (filter, order, after, limit) => {
        this.#writeTallies(tallies);
        return this.#listVClusters(filter, order, after, limit, (row) => this.#decoded.decode(row.id, row.data));
      },
      getSnapshot: (id) => decodeSnapshot(this.#get("SELECT data FROM snapshots WHERE id = ?", id)),
      getSnapshotByName: (namespace, name) =>
        decodeSnapshot(this.#get("SELECT data FROM snapshots WHERE namespace = ? AND name = ?", namespace, name)),
      putSnapshot: (snapshot, content) => this.#putSnapshot(snapshot, content),
      getSnapshotContent: (id) => {
        const row = this.#get("SELECT content FROM snapshot_contents WHERE snapshot_id = ?", id);
        return row === undefined ? undefined : (row.content as Uint8Array);
      },
      deleteSnapshot: (id) => this.#run("DELETE FROM snapshots WHERE id = ?", id) > 0,
      listSnapshots: (filter, after, limit) => this.#listSnapshots(filter, after, limit),
      snapshotsExpiringBefore: (time) =>
        this.#all(
          "SELECT data FROM snapshots WHERE expire_time_ms IS NOT NULL AND expire_time_ms <= ? ORDER BY expire_time_ms, id",
          time.getTime(),
        ).map((row) => fromBinary(SnapshotSchema, row.data as Uint8Array)),
      getIdempotency: (key) => {
        const row = this.#get("SELECT key, fingerprint, response, create_time_ms FROM idempotency WHERE key = ?", key);
        if (row === undefined) return undefined;
        return {
          key: row.key as string,
          fingerprint: row.fingerprint as string,
          response: row.response as Uint8Array,
          createTime: new Date(Number(row.create_time_ms)),
        };
      },
      putIdempotency: (record: IdempotencyRecord) => {
        this.#run(
          `INSERT INTO idempotency (key, fingerprint, response, create_time_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, response = excluded.response,
           create_time_ms = excluded.create_time_ms`,
          record.key,
          record.fingerprint,
          record.response,
          record.createTime.getTime(),
        );
      },
      deleteIdempotencyBefore: (time) => this.#run("DELETE FROM idempotency WHERE create_time_ms < ?", time.getTime()),
      getOperation: (vclusterId) => {
        let row = this.#operations.get(vclusterId);
        if (row === undefined) {
          row = this.#get("SELECT * FROM operations WHERE vcluster_id = ?", vclusterId) ?? null;
          this.#rememberOperation(vclusterId, row);
        }
        return decodeOperation(row ?? undefined);
      },
      putOperation: (vclusterId, operation, lease) => {
        const waiting = "waiting" in lease;
        const row = this.#get(
          `INSERT INTO operations (vcluster_id, operation_json, waiting, owner, lease_expires_ms, sequence)
         VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(sequence), 0) + 1 FROM operations))
         ON CONFLICT (vcluster_id) DO UPDATE SET operation_json = excluded.operation_json, waiting = excluded.waiting,
           owner = excluded.owner, lease_expires_ms = excluded.lease_expires_ms, sequence = excluded.sequence
         RETURNING *`,
          vclusterId,
          JSON.stringify(operation),
          waiting ? 1 : 0,
          waiting ? "" : lease.owner,
          waiting ? 0 : Date.now() + lease.leaseMs,
        );
        this.#rememberOperation(vclusterId, row ?? null);
        return decodeOperation(row) as OperationRecord;
      },
      deleteOperation: (vclusterId, operationId) => {
        const deleted =
          operationId === undefined
            ? this.#run("DELETE FROM operations WHERE vcluster_id = ?", vclusterId) > 0
            : this.#run(
                "DELETE FROM operations WHERE vcluster_id = ? AND json_extract(operation_json, '$.id') = ?",
                vclusterId,
                operationId,
              ) > 0;
        if (deleted || operationId === undefined) this.#rememberOperation(vclusterId, null);
        return deleted;
      },
      claimOperations: (request) => this.#claim(request),
      renewLeases: (owner, ids, leaseMs) => {
        const expires = Date.now() + leaseMs;
        return ids.filter((id) => {
          const renewed =
            this.#run(
              "UPDATE operations SET lease_expires_ms = ? WHERE vcluster_id = ? AND owner = ?",
              expires,
              id,
              owner,
            ) > 0;
          const known = this.#operations.get(id);
          if (renewed && known) this.#rememberOperation(id, { ...known, lease_expires_ms: expires });
          return renewed;
        });
      },
      countActiveCreates: () => countCreates(this.#allOperations()),
      claimHousekeeping: (intervalMs) => {
        const now = Date.now();
        return (
          this.#run(
            "UPDATE meta SET housekeeping_due_ms = ? WHERE id = 1 AND housekeeping_due_ms <= ?",
            now + intervalMs,
            now,
          ) > 0
        );
      },
      currentVersion: () => this.#version,
      listHistory: (kind, vclusterId, afterSequence, limit) => {
        assertPageLimit(limit);
        // The newest entry alone (the usage sampler's question) is known when this process wrote it.
        const newest = limit === 1 ? this.#historyBounds.get(historyKey(kind, vclusterId))?.newest : undefined;
        if (newest !== undefined)
          return newest.sequence > afterSequence ? [{ ...newest, data: newest.data.slice() }] : [];
        return this.#all(
          `SELECT sequence, time_ms, data FROM history WHERE vcluster_id = ? AND kind = ? AND sequence > ?
           ORDER BY sequence DESC LIMIT ?`,
          vclusterId,
          kind,
          afterSequence,
          limit,
        )
          .reverse()
          .map((row) => ({
            sequence: Number(row.sequence),
            timeMs: Number(row.time_ms),
            data: row.data as Uint8Array,
          }));
      },
      appendHistory: (kind, vclusterId, entries, options) => {
        const { first, last } = this.#historyBoundsOf(kind, vclusterId);
        if (entries.length === 0) return last;
        if (options.replaceLast) {
          this.#run("DELETE FROM history WHERE vcluster_id = ? AND kind = ? AND sequence = ?", vclusterId, kind, last);
        }
        const newest = last + entries.length;
        const oldestKept = newest - options.keep + 1;
        // One statement per chunk of rows: a statement's cost is mostly its own, not its rows'.
        const kept = entries.slice(Math.max(0, entries.length - options.keep));
        for (let start = 0; start < kept.length; start += HISTORY_ROWS_PER_INSERT) {
          const chunk = kept.slice(start, start + HISTORY_ROWS_PER_INSERT);
          const first = newest - kept.length + 1 + start;
          this.#run(
            historyInsert(chunk.length),
            ...chunk.flatMap((entry, i) => [vclusterId, kind, first + i, entry.timeMs, entry.data]),
          );
        }
        // Only when something falls out of the kept window: a young history is not trimmed.
        if (first !== undefined && first < oldestKept) {
          this.#run(
            "DELETE FROM history WHERE vcluster_id = ? AND kind = ? AND sequence < ?",
            vclusterId,
            kind,
            oldestKept,
          );
        }
        // The oldest row left is at least the older of what was kept and what was written. With
        // nothing kept, nothing is left: the next append starts over, as it would after a look-up.
        const firstWritten = newest - kept.length + 1;
        this.#rememberHistoryBounds(
          kind,
          vclusterId,
          kept.length === 0
            ? { first: undefined, last: 0 }
            : {
                first: first === undefined ? firstWritten : Math.min(Math.max(first, oldestKept), firstWritten),
                last: newest,
                newest: {
                  sequence: newest,
                  timeMs: kept.at(-1)?.timeMs ?? 0,
                  data: kept.at(-1)?.data.slice() ?? new Uint8Array(),
                },
              },
        );
        return newest;
      },
    };
  }

  #historyBoundsOf(kind: HistoryKind, vclusterId: string): HistoryBounds {
    const known = this.#historyBounds.get(historyKey(kind, vclusterId));
    if (known !== undefined) return known;
    const row = this.#get(
      "SELECT min(sequence) AS first, max(sequence) AS last FROM history WHERE vcluster_id = ? AND kind = ?",
      vclusterId,
      kind,
    );
    const bounds = {
      first: row?.first === null || row?.first === undefined ? undefined : Number(row.first),
      last: Number(row?.last ?? 0),
    };
    this.#rememberHistoryBounds(kind, vclusterId, bounds);
    return bounds;
  }

  #rememberHistoryBounds(kind: HistoryKind, vclusterId: string, bounds: HistoryBounds) {
    remember(this.#historyBounds, historyKey(kind, vclusterId), bounds);
  }

  #rememberOperation(vclusterId: string, row: Row | null): void {
    remember(this.#operations, vclusterId, row);
  }

  #allOperations(): OperationRecord[] {
    return this.#all("SELECT * FROM operations ORDER BY sequence").map(
      (row) => decodeOperation(row) as OperationRecord,
    );
  }

  #claim(request: ClaimRequest): OperationRecord[] {
    const now = Date.now();
    const claimed: OperationRecord[] = [];
    const take = (record: OperationRecord) => {
      const row = this.#get(
        "UPDATE operations SET waiting = 0, owner = ?, lease_expires_ms = ? WHERE vcluster_id = ? RETURNING *",
        request.owner,
        now + request.leaseMs,
        record.vclusterId,
      );
      this.#rememberOperation(record.vclusterId, row ?? null);
      claimed.push(decodeOperation(row) as OperationRecord);
    };
    const all = this.#allOperations();
    for (const record of all) {
      if (claimed.length >= request.limit) break;
      if (record.waiting) continue;
      const expired = record.owner === "" || record.leaseExpiresMs <= now;
      if (expired || (request.takeOverLive && record.owner !== request.owner)) take(record);
    }
    const max = request.maxActiveCreates ?? 0;
    let free = max === 0 ? Number.POSITIVE_INFINITY : max - countCreates(all).active;
    for (const record of all) {
      if (claimed.length >= request.limit || free <= 0) break;
      if (!record.waiting) continue;
      take(record);
      free -= 1;
    }
    return claimed;
  }

  // Only called while no transaction is open and every commit is durable: what the connection
  // sees is what is committed.
  protected peekCommitted(key: { id: string } | { namespace: string; name: string }): Readonly<VCluster> | undefined {
    return this.#selectFrozen(key);
  }

  #selectFrozen(key: { id: string } | { namespace: string; name: string }): Readonly<VCluster> | undefined {
    const known = this.#known.get(key);
    if (known !== undefined) return known ?? undefined;
    const row =
      "id" in key
        ? this.#get("SELECT id, data FROM vclusters WHERE id = ?", key.id)
        : this.#get("SELECT id, data FROM vclusters WHERE namespace = ? AND name = ?", key.namespace, key.name);
    const read = this.#frozenOf(row);
    this.#known.found(key, read);
    return read;
  }

  // A row's vcluster, decoded once while its bytes stay the same (see DecodedVClusters): frozen
  // for what only reads it, copied for whoever may change it.
  #frozenOf(row: Row | undefined): Readonly<VCluster> | undefined {
    return row === undefined ? undefined : this.#decoded.decode(String(row.id), row.data as Uint8Array);
  }

  protected committedVersion(): number {
    return this.#committedVersion;
  }

  protected oldestRetained(): number {
    return this.#committedOldest;
  }

  protected committedEventsAfter(version: number, limit?: number): StoredEvent[] {
    if (version < this.#committedOldest) throw new HistoryExpiredError(version, this.#committedOldest);
    if (limit !== undefined) assertPageLimit(limit);
    // The upper bound hides events of a transaction that is still open on this connection.
    return this.#all(
      `SELECT resource_version, type, data FROM events
       WHERE resource_version > ? AND resource_version <= ? ORDER BY resource_version LIMIT ?`,
      version,
      this.#committedVersion,
      limit ?? -1,
    ).map((row) => ({
      resourceVersion: Number(row.resource_version),
      type: Number(row.type) as WatchEventType,
      vcluster: fromBinary(VClusterSchema, row.data as Uint8Array),
    }));
  }

  // IMMEDIATE takes the write lock up front, so a transaction never fails half-way with
  // SQLITE_BUSY when it first writes after reading.
  #commit(): void {
    const current = this.#version;
    let oldest = this.#committedOldest;
    // Versions are contiguous (one event each), so this keeps exactly historyLimit events.
    const cutoff = current - this.historyLimit;
    if (cutoff > oldest) {
      this.#run("DELETE FROM events WHERE resource_version <= ?", cutoff);
      oldest = cutoff;
    }
    const count = this.#vclusterCount;
    if (current !== this.#committedVersion || oldest !== this.#committedOldest || count !== this.#committedCount) {
      this.#run(
        "UPDATE meta SET current_version = ?, oldest_retained_version = ?, vcluster_count = ? WHERE id = 1",
        current,
        oldest,
        count,
      );
    }
    this.#exec("COMMIT");
    this.#checkpointer?.committed();
    this.#committedVersion = current;
    this.#committedOldest = oldest;
    this.#committedCount = count;
  }

  protected closeStore(): void {
    this.#statements.clear();
    this.#wal?.close();
    this.#checkpointer?.close();
    this.#db.close();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #exec(sql: string): void {
    this.#statement(sql).run();
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params);
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params);
  }

  /** Runs a write and returns how many rows it changed. */
  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#statement(sql).run(...params).changes);
  }

  #nextVersion(): number {
    this.#version += 1;
    return this.#version;
  }

  #appendEvent(
    events: StoredEvent[],
    version: number,
    type: WatchEventType,
    vcluster: VCluster,
    data: Uint8Array,
  ): void {
    this.#run("INSERT INTO events (resource_version, type, data) VALUES (?, ?, ?)", version, type, data);
    events.push({ resourceVersion: version, type, vcluster });
  }

  /** The stored vcluster, after checking it is at the expected version (0 = absent). */
  #checkExpected(id: string, expected: number | undefined): Readonly<VCluster> | undefined {
    return checkVersion(id, this.#selectFrozen({ id }), expected);
  }

  #putVCluster(events: StoredEvent[], tallies: Tallies, vcluster: VCluster, expected: number | undefined): VCluster {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    const { existing, holder } = this.#existingAndHolder(vcluster);
    if (holder !== undefined && holder.id !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, holder.id);
    }
    checkVersion(vcluster.id, existing, expected);
    const exists = existing !== undefined;
    const version = this.#nextVersion();
    const stored = copyVCluster(vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    const data = toBinary(VClusterSchema, stored);
    const row = this.#get(
      `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
         create_time_ms = excluded.create_time_ms, phase = excluded.phase, owner = excluded.owner,
         project = excluded.project, labels_json = excluded.labels_json, data = excluded.data
       RETURNING seq`,
      stored.id,
      stored.namespace,
      stored.name,
      timestampToMs(stored.createTime),
      stored.status?.phase ?? Phase.UNSPECIFIED,
      stored.owner,
      stored.project,
      JSON.stringify(stored.labels),
      data,
    );
    this.#known.wrote(stored.id, existing, freezeDeep(stored));
    this.#indexLabels(Number(row?.seq), existing, stored);
    tallies.move(existing, stored);
    if (!exists) this.#vclusterCount += 1;
    this.#appendEvent(events, version, exists ? WatchEventType.MODIFIED : WatchEventType.ADDED, stored, data);
    return copyVCluster(stored);
  }

  /** The stored vcluster of `vcluster`'s id and the one holding its name: known, or one look-up. */
  #existingAndHolder(vcluster: VCluster): {
    existing: Readonly<VCluster> | undefined;
    holder: Readonly<VCluster> | undefined;
  } {
    const name = { namespace: vcluster.namespace, name: vcluster.name };
    const knownExisting = this.#known.get({ id: vcluster.id });
    const knownHolder = this.#known.get(name);
    if (knownExisting !== undefined && knownHolder !== undefined) {
      return { existing: knownExisting ?? undefined, holder: knownHolder ?? undefined };
    }
    let existing: Readonly<VCluster> | undefined;
    let holder: Readonly<VCluster> | undefined;
    // Two rows at most: the vcluster, and another one holding its name.
    for (const row of this.#all(
      "SELECT id, data FROM vclusters WHERE id = ? OR (namespace = ? AND name = ?)",
      vcluster.id,
      vcluster.namespace,
      vcluster.name,
    )) {
      const read = this.#frozenOf(row) as Readonly<VCluster>;
      if (read.id === vcluster.id) existing = read;
      if (read.namespace === vcluster.namespace && read.name === vcluster.name) holder = read;
    }
    this.#known.found({ id: vcluster.id }, existing);
    this.#known.found(name, holder);
    return { existing, holder };
  }

  /**
   * Keeps vcluster_labels equal to the vcluster's labels. Only the pairs that changed are
   * touched, unless the sort keys the pairs carry changed: then all of them. (One statement per
   * pair measured cheaper than one per vcluster reading the pairs with json_each.)
   */
  #indexLabels(seq: number, before: VCluster | undefined, after: VCluster | undefined): void {
    const old = before?.labels ?? {};
    const now = after?.labels ?? {};
    const moved =
      before !== undefined &&
      after !== undefined &&
      (before.namespace !== after.namespace ||
        before.name !== after.name ||
        timestampToMs(before.createTime) !== timestampToMs(after.createTime));
    if (before !== undefined) {
      for (const [key, value] of Object.entries(old)) {
        if (now[key] === value && !moved) continue;
        this.#run(
          "DELETE FROM vcluster_labels WHERE key = ? AND value = ? AND namespace = ? AND name = ?",
          key,
          value,
          before.namespace,
          before.name,
        );
      }
    }
    if (after === undefined) return;
    const createTimeMs = timestampToMs(after.createTime);
    for (const [key, value] of Object.entries(now)) {
      if (old[key] === value && !moved) continue;
      this.#run(
        `INSERT INTO vcluster_labels (key, value, namespace, name, create_time_ms, id, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        key,
        value,
        after.namespace,
        after.name,
        createTimeMs,
        after.id,
        seq,
      );
    }
  }

  /** Writes the transaction's tally changes so far (one statement per table); a tally at zero goes. */
  #writeTallies(tallies: Tallies): void {
    if (tallies.empty) return;
    const labels = tallies.columns("label");
    const namespaces = tallies.columns("namespace");
    const pairs = JSON.stringify(labels.first.map((key, i) => [key, labels.second[i], labels.deltas[i]]));
    const spaces = JSON.stringify(namespaces.first.map((namespace, i) => [namespace, namespaces.deltas[i]]));
    // "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.
    this.#run(
      `INSERT INTO label_counts (key, value, count)
       SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true
       ON CONFLICT (key, value) DO UPDATE SET count = count + excluded.count`,
      pairs,
    );
    this.#run(
      `INSERT INTO namespace_counts (namespace, count)
       SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true
       ON CONFLICT (namespace) DO UPDATE SET count = count + excluded.count`,
      spaces,
    );
    if (tallies.decreased) {
      this.#run(
        `DELETE FROM label_counts WHERE count <= 0
         AND (key, value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
        pairs,
      );
      this.#run(
        "DELETE FROM namespace_counts WHERE count <= 0 AND namespace IN (SELECT value ->> 0 FROM json_each(?))",
        spaces,
      );
    }
    tallies.clear();
  }

  #deleteVCluster(
    events: StoredEvent[],
    tallies: Tallies,
    id: string,
    expected: number | undefined,
  ): VCluster | undefined {
    const existing = this.#checkExpected(id, expected);
    if (existing === undefined) return undefined;
    const final = copyVCluster(existing);
    const version = this.#nextVersion();
    final.annotations[Annotations.resourceVersion] = String(version);
    const row = this.#get("DELETE FROM vclusters WHERE id = ? RETURNING seq", id);
    this.#known.wrote(id, existing, undefined);
    this.#indexLabels(Number(row?.seq), final, undefined);
    tallies.move(final, undefined);
    this.#vclusterCount -= 1;
    this.#run("DELETE FROM operations WHERE vcluster_id = ?", id);
    this.#rememberOperation(id, null);
    this.#run("DELETE FROM history WHERE vcluster_id = ?", id);
    for (const kind of HISTORY_KINDS) this.#historyBounds.delete(historyKey(kind, id));
    this.#appendEvent(events, version, WatchEventType.DELETED, final, toBinary(VClusterSchema, final));
    return copyVCluster(final);
  }

  /**
   * The label requirement to drive a page by: the one matching the fewest vclusters, unless the
   * namespace holds fewer still (its rows are contiguous in the name index). Undefined: none. A
   * lone candidate without a namespace needs no look-up.
   */
  #driver(filter: VClusterFilter): LabelRequirement | undefined {
    const candidates = drivingCandidates(filter);
    if (candidates.length <= 1 && filter.namespace === undefined) return candidates[0];
    let best: LabelRequirement | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    for (const requirement of candidates) {
      const count = Number(this.#get(LABEL_TALLY, requirement.key, requirement.values[0] ?? "")?.count ?? 0);
      if (count < fewest) {
        best = requirement;
        fewest = count;
      }
    }
    if (best === undefined || filter.namespace === undefined) return best;
    const inNamespace = Number(this.#get(NAMESPACE_TALLY, filter.namespace)?.count ?? 0);
    return inNamespace < fewest ? undefined : best;
  }

  #listVClusters<T extends Readonly<VCluster>>(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
    decode: (row: EncodedRow) => T,
  ): ListResult<T> {
    assertPageLimit(limit);
    // Unless part of the filter runs in JS, SQL stops after limit + 1 rows (the extra one tells hasMore).
    const labels = jsVClusterLabels(filter.labels);
    const sqlLimit = labels === undefined ? limit + 1 : undefined;
    const driver = labels === undefined ? this.#driver(filter) : undefined;
    const page = this.#page("vclusters", vclusterPageQuery(filter, order, after, sqlLimit, driver), labels, limit);
    const items = page.items.map(decode);
    const total = after === undefined && !page.hasMore ? items.length : this.#countVClusters(filter, labels);
    return { items, total, hasMore: page.hasMore };
  }

  #putSnapshot(snapshot: Snapshot, content: Uint8Array | undefined): void {
    if (snapshot.id === "") throw new TypeError("snapshot.id is required");
    const holder = this.#get(
      "SELECT id FROM snapshots WHERE namespace = ? AND name = ?",
      snapshot.namespace,
      snapshot.name,
    );
    if (holder !== undefined && holder.id !== snapshot.id) {
      throw new NameConflictError("snapshot", snapshot.namespace, snapshot.name, String(holder.id));
    }
    // An upsert, not INSERT OR REPLACE: replacing would delete the row and cascade to its content.
    this.#run(
      `INSERT INTO snapshots (id, namespace, name, vcluster_id, vcluster_name, create_time_ms, expire_time_ms,
         labels_json, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
         vcluster_id = excluded.vcluster_id, vcluster_name = excluded.vcluster_name,
         create_time_ms = excluded.create_time_ms, expire_time_ms = excluded.expire_time_ms,
         labels_json = excluded.labels_json, data = excluded.data`,
      snapshot.id,
      snapshot.namespace,
      snapshot.name,
      snapshot.vclusterId,
      snapshot.vclusterName,
      timestampToMs(snapshot.createTime),
      snapshot.expireTime === undefined ? null : timestampToMs(snapshot.expireTime),
      JSON.stringify(snapshot.labels),
      toBinary(SnapshotSchema, snapshot),
    );
    if (content !== undefined) {
      this.#run(
        `INSERT INTO snapshot_contents (snapshot_id, content) VALUES (?, ?)
         ON CONFLICT (snapshot_id) DO UPDATE SET content = excluded.content`,
        snapshot.id,
        content,
      );
    }
  }

  #listSnapshots(filter: SnapshotFilter, after: SnapshotCursor | undefined, limit: number): ListResult<Snapshot> {
    assertPageLimit(limit);
    const labels = jsLabels(filter.labels);
    const sqlLimit = labels === undefined ? limit + 1 : undefined;
    const page = this.#page("snapshots", snapshotPageQuery(filter, after, sqlLimit), labels, limit);
    const items = page.items.map((row) => fromBinary(SnapshotSchema, row.data));
    const total = after === undefined && !page.hasMore ? items.length : this.#count(snapshotCountQuery(filter), labels);
    return { items, total, hasMore: page.hasMore };
  }

  /**
   * Walks the ordered rows until `limit` of them pass the label predicate, plus one more to
   * learn whether there are more. Only rows that make the page are returned (undecoded).
   */
  #page(
    table: "vclusters" | "snapshots",
    query: Query,
    labels: LabelPredicate | undefined,
    limit: number,
  ): { items: EncodedRow[]; hasMore: boolean } {
    const items: EncodedRow[] = [];
    const rowIds: SQLOutputValue[] = [];
    let hasMore = false;
    for (const row of this.#statement(query.sql).iterate(...query.params)) {
      if (labels !== undefined && !labels(parseLabels(row.labels_json))) continue;
      // Leaving the loop early returns the iterator, which resets the statement.
      if (items.length + rowIds.length === limit) {
        hasMore = true;
        break;
      }
      if (row.data !== undefined) items.push(row as unknown as EncodedRow);
      else rowIds.push(row.row_id as SQLOutputValue);
    }
    // Label-filtered scans read no objects (see pageColumns): fetch the page's own now.
    const byRowId = this.#statement(`SELECT id, data FROM ${table} WHERE rowid = ?`);
    for (const rowId of rowIds) items.push(byRowId.get(rowId as SQLInputValue) as unknown as EncodedRow);
    return { items, hasMore };
  }

  #countVClusters(filter: VClusterFilter, labels: LabelPredicate | undefined): number {
    const query = vclusterCountQuery(filter);
    return query === undefined ? this.#vclusterCount : this.#count(query, labels);
  }

  #count(query: Query, labels: LabelPredicate | undefined): number {
    if (labels === undefined) return Number(this.#get(query.sql, ...query.params)?.count);
    let count = 0;
    for (const row of this.#statement(query.sql).iterate(...query.params)) {
      if (labels(parseLabels(row.labels_json))) count++;
    }
    return count;
  }
}

function copyOf(vcluster: Readonly<VCluster> | undefined): VCluster | undefined {
  return vcluster === undefined ? undefined : copyVCluster(vcluster);
}

/** `existing` (the stored vcluster `id`), after checking it is at the expected version (0 = absent). */
function checkVersion(
  id: string,
  existing: Readonly<VCluster> | undefined,
  expected: number | undefined,
): Readonly<VCluster> | undefined {
  if (expected === undefined) return existing;
  const actual = existing === undefined ? 0 : Number(existing.annotations[Annotations.resourceVersion] ?? 0);
  if (actual !== expected) {
    throw new VersionConflictError(`vcluster ${id} is at version ${actual}, not the expected ${expected}`);
  }
  return existing;
}

const HISTORY_KINDS: readonly HistoryKind[] = ["event", "usage"];
// SQLite's own default.
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
// Entries each of the kept maps holds at most: beyond that it starts over rather than track
// which entries are hot (a miss only costs the statement it would have saved).
const KEPT_ENTRIES = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= KEPT_ENTRIES) map.clear();
  map.set(key, value);
}

/** A history's first sequence (at most), its last, and its newest entry when this process wrote it. */
interface HistoryBounds {
  first: number | undefined;
  last: number;
  newest?: HistoryEntry;
}

function historyKey(kind: HistoryKind, vclusterId: string): string {
  return `${kind}\u0000${vclusterId}`;
}

/** A row of a page: its id and its encoded object. */
interface EncodedRow {
  id: string;
  data: Uint8Array;
}

function parseLabels(json: SQLOutputValue | undefined): Record<string, string> {
  return JSON.parse(String(json)) as Record<string, string>;
}

function decodeSnapshot(row: Row | undefined): Snapshot | undefined {
  return row === undefined ? undefined : fromBinary(SnapshotSchema, row.data as Uint8Array);
}

function decodeOperation(row: Row | undefined): OperationRecord | undefined {
  if (row === undefined) return undefined;
  return {
    vclusterId: String(row.vcluster_id),
    operation: JSON.parse(String(row.operation_json)) as OperationRecord["operation"],
    waiting: Number(row.waiting) === 1,
    owner: String(row.owner),
    leaseExpiresMs: Number(row.lease_expires_ms),
    sequence: Number(row.sequence),
  };
}

type SyncTx = { [K in keyof StoreTx]: (...args: Parameters<StoreTx[K]>) => Awaited<ReturnType<StoreTx[K]>> };

/** The StoreTx face of synchronous operations: a thrown error becomes a rejection. */
function asyncTx(sync: SyncTx): StoreTx {
  const tx: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(sync) as [string, (...args: unknown[]) => unknown][]) {
    tx[key] = (...args: unknown[]) => {
      try {
        return Promise.resolve(f(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return tx as unknown as StoreTx;
}
