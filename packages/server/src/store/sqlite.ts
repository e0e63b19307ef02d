import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import { DatabaseSync } from "node:sqlite";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { timestampToMs } from "./cursors.js";
import { assertPageLimit } from "./matching.js";
import {
  jsLabels,
  type Query,
  snapshotCountQuery,
  snapshotPageQuery,
  vclusterCountQuery,
  vclusterPageQuery,
} from "./sqlite-queries.js";
import { configureConnection, migrate } from "./sqlite-schema.js";
import { TransactionalStore } from "./transactional-store.js";
import type {
  IdempotencyRecord,
  LabelPredicate,
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

type Row = Record<string, SQLOutputValue>;

/**
 * A durable store in one SQLite file (node:sqlite). Every committed transaction is synced to
 * the write-ahead log before transaction() returns, so an acknowledged write survives a crash.
 *
 * Resource versions and the event history live in the same database as the objects and are
 * written in the same transaction, so they can never disagree. The connection is meant to be
 * the only writer: committed versions are cached in memory after each commit.
 */
export class SqliteStore extends TransactionalStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #committedVersion = 0;
  #committedOldest = 0;

  constructor(path: string, options: StoreOptions = {}) {
    super(options);
    const inMemory = path === ":memory:";
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    try {
      configureConnection(this.#db, { inMemory });
      migrate(this.#db);
      // An empty transaction applies a historyLimit lowered since the last run and loads the meta row.
      this.transaction(() => undefined);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  protected readonly tx: StoreTx = {
    getVCluster: (namespace, name) =>
      decodeVCluster(this.#get("SELECT data FROM vclusters WHERE namespace = ? AND name = ?", namespace, name)),
    getVClusterById: (id) => decodeVCluster(this.#get("SELECT data FROM vclusters WHERE id = ?", id)),
    putVCluster: (vcluster) => this.#putVCluster(vcluster),
    deleteVCluster: (id) => this.#deleteVCluster(id),
    listVClusters: (filter, order, after, limit) => this.#listVClusters(filter, order, after, limit),
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
  };

  currentVersion(): number {
    return this.#committedVersion;
  }

  oldestRetainedVersion(): number {
    return this.#committedOldest;
  }

  eventsAfter(version: number, limit?: number): StoredEvent[] {
    this.assertOpen();
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
  protected beginTransaction(): void {
    this.#db.exec("BEGIN IMMEDIATE");
  }

  protected commitTransaction(_events: readonly StoredEvent[]): void {
    const meta = this.#get("SELECT current_version, oldest_retained_version FROM meta WHERE id = 1");
    const current = Number(meta?.current_version);
    let oldest = Number(meta?.oldest_retained_version);
    // Versions are contiguous (one event each), so this keeps exactly historyLimit events.
    const cutoff = current - this.historyLimit;
    if (cutoff > oldest) {
      this.#run("DELETE FROM events WHERE resource_version <= ?", cutoff);
      this.#run("UPDATE meta SET oldest_retained_version = ? WHERE id = 1", cutoff);
      oldest = cutoff;
    }
    this.#db.exec("COMMIT");
    this.#committedVersion = current;
    this.#committedOldest = oldest;
  }

  protected rollbackTransaction(): void {
    // SQLite may already have rolled back by itself (e.g. after SQLITE_FULL).
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }

  protected beginSavepoint(depth: number): void {
    this.#db.exec(`SAVEPOINT nested_${depth}`);
  }

  protected releaseSavepoint(depth: number): void {
    this.#db.exec(`RELEASE nested_${depth}`);
  }

  protected rollbackSavepoint(depth: number): void {
    if (!this.#db.isTransaction) return;
    this.#db.exec(`ROLLBACK TO nested_${depth}`);
    this.#db.exec(`RELEASE nested_${depth}`);
  }

  // A read transaction gives a page and its total count the same snapshot of the data.
  protected override readConsistently<T>(read: () => T): T {
    if (this.inTransaction) return read();
    this.#db.exec("BEGIN");
    try {
      return read();
    } finally {
      if (this.#db.isTransaction) this.#db.exec("COMMIT");
    }
  }

  protected closeStore(): void {
    this.#statements.clear();
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
    const row = this.#get(
      "UPDATE meta SET current_version = current_version + 1 WHERE id = 1 RETURNING current_version",
    );
    return Number(row?.current_version);
  }

  #appendEvent(version: number, type: WatchEventType, vcluster: VCluster, data: Uint8Array): void {
    this.#run("INSERT INTO events (resource_version, type, data) VALUES (?, ?, ?)", version, type, data);
    this.recordEvent({ resourceVersion: version, type, vcluster });
  }

  #putVCluster(vcluster: VCluster): VCluster {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    const holder = this.#get(
      "SELECT id FROM vclusters WHERE namespace = ? AND name = ?",
      vcluster.namespace,
      vcluster.name,
    );
    if (holder !== undefined && holder.id !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, String(holder.id));
    }
    const exists = this.#get("SELECT 1 AS present FROM vclusters WHERE id = ?", vcluster.id) !== undefined;
    const version = this.#nextVersion();
    const stored = clone(VClusterSchema, vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    const data = toBinary(VClusterSchema, stored);
    this.#run(
      `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
         create_time_ms = excluded.create_time_ms, phase = excluded.phase, owner = excluded.owner,
         project = excluded.project, labels_json = excluded.labels_json, data = excluded.data`,
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
    this.#appendEvent(version, exists ? WatchEventType.MODIFIED : WatchEventType.ADDED, stored, data);
    return clone(VClusterSchema, stored);
  }

  #deleteVCluster(id: string): VCluster | undefined {
    const final = decodeVCluster(this.#get("SELECT data FROM vclusters WHERE id = ?", id));
    if (final === undefined) return undefined;
    const version = this.#nextVersion();
    final.annotations[Annotations.resourceVersion] = String(version);
    this.#run("DELETE FROM vclusters WHERE id = ?", id);
    this.#appendEvent(version, WatchEventType.DELETED, final, toBinary(VClusterSchema, final));
    return clone(VClusterSchema, final);
  }

  #listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): ListResult<VCluster> {
    assertPageLimit(limit);
    // Unless part of the filter runs in JS, SQL stops after limit + 1 rows (the extra one tells hasMore).
    const labels = jsLabels(filter.labels);
    const sqlLimit = labels === undefined ? limit + 1 : undefined;
    const page = this.#page("vclusters", vclusterPageQuery(filter, order, after, sqlLimit), labels, limit);
    const items = page.items.map((data) => fromBinary(VClusterSchema, data));
    const total = after === undefined && !page.hasMore ? items.length : this.#count(vclusterCountQuery(filter), labels);
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
    const items = page.items.map((data) => fromBinary(SnapshotSchema, data));
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
  ): { items: Uint8Array[]; hasMore: boolean } {
    const items: Uint8Array[] = [];
    const rowIds: SQLOutputValue[] = [];
    let hasMore = false;
    for (const row of this.#statement(query.sql).iterate(...query.params)) {
      if (labels !== undefined && !labels(parseLabels(row.labels_json))) continue;
      // Leaving the loop early returns the iterator, which resets the statement.
      if (items.length + rowIds.length === limit) {
        hasMore = true;
        break;
      }
      if (labels === undefined) items.push(row.data as Uint8Array);
      else rowIds.push(row.row_id as SQLOutputValue);
    }
    // Label-filtered scans read no objects (see pageColumns): fetch the page's own now.
    const byRowId = this.#statement(`SELECT data FROM ${table} WHERE rowid = ?`);
    for (const rowId of rowIds) items.push(byRowId.get(rowId as SQLInputValue)?.data as Uint8Array);
    return { items, hasMore };
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

function parseLabels(json: SQLOutputValue | undefined): Record<string, string> {
  return JSON.parse(String(json)) as Record<string, string>;
}

function decodeVCluster(row: Row | undefined): VCluster | undefined {
  return row === undefined ? undefined : fromBinary(VClusterSchema, row.data as Uint8Array);
}

function decodeSnapshot(row: Row | undefined): Snapshot | undefined {
  return row === undefined ? undefined : fromBinary(SnapshotSchema, row.data as Uint8Array);
}
