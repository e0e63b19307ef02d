import { AsyncLocalStorage } from "node:async_hooks";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import postgres, { type Options, type Sql, type TransactionSql } from "postgres";
import { timestampToMs } from "./cursors.js";
import { assertPageLimit } from "./matching.js";
import { migratePostgres } from "./postgres-schema.js";
import { historyLimitOf, reportListenerError, Subscribers } from "./transactional-store.js";
import type {
  ClaimRequest,
  IdempotencyRecord,
  LabelPredicate,
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
import { HistoryExpiredError, NameConflictError, StoreUnavailableError, VersionConflictError } from "./types.js";

export interface PostgresStoreOptions extends StoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Statements running longer are cancelled (default 30 s; 0 = no limit). */
  statementTimeoutMs?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeoutSeconds?: number;
  /** TLS: false, true (verify), "require" (encrypt, no verification) or node TLS options. */
  ssl?: Options<Record<string, never>>["ssl"];
  /** How often the change feed looks for commits when no notification came (default 1000 ms). */
  pollIntervalMs?: number;
}

const CHANNEL = "open_vcluster_events";
const FEED_BATCH = 1000;

type Db = Sql | TransactionSql;
type Row = Record<string, unknown>;

/**
 * A store in PostgreSQL, shared by any number of server replicas.
 *
 * Resource versions come from one counter row that every writing transaction locks at its
 * first write and holds until commit, so commit order is version order and versions have no
 * gaps: an event committed later never carries a lower version than one already delivered.
 * The events table is the truth for watches on every replica; NOTIFY only wakes the change
 * feed early, and a periodic poll and each reconnect catch up on whatever a lost notification
 * would have said.
 */
export class PostgresStore implements Store {
  readonly traits: StoreTraits = { shared: true };
  readonly #sql: Sql;
  readonly #historyLimit: number;
  readonly #subscribers: Subscribers;
  readonly #ready: Promise<void>;
  readonly #pollTimer: NodeJS.Timeout;
  #healthy = false;
  #closed = false;
  #feedVersion = -1;
  #feeding: Promise<void> | undefined;
  #feedAgain = false;
  #unlisten: (() => Promise<void>) | undefined;
  readonly #inside = new AsyncLocalStorage<true>();

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#historyLimit = historyLimitOf(options);
    this.#subscribers = new Subscribers(options.onListenerError ?? reportListenerError);
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    this.#sql = postgres(url, {
      max: options.poolSize ?? 10,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      idle_timeout: 60,
      onnotice: () => {},
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      connection: {
        application_name: "vcluster-api-server",
        ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
      },
    });
    this.#ready = this.#start();
    // Unhandled here; every operation awaits it and reports its failure.
    this.#ready.catch(() => undefined);
    this.#pollTimer = setInterval(() => this.#heartbeat(), options.pollIntervalMs ?? 1000);
    this.#pollTimer.unref();
  }

  /** Migrates (retrying until the database is reachable), then starts the change feed. */
  async #start(): Promise<void> {
    for (;;) {
      try {
        await migratePostgres(this.#sql);
        break;
      } catch (error) {
        if (this.#closed || !isConnectionError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
    const [meta] = await this.#sql<{ current_version: string }[]>`SELECT current_version FROM meta WHERE id = 1`;
    this.#feedVersion = Number(meta?.current_version ?? 0);
    const listening = await this.#sql.listen(
      CHANNEL,
      () => this.#wake(),
      () => this.#wake(),
    );
    this.#unlisten = listening.unlisten;
    this.#healthy = true;
  }

  #heartbeat(): void {
    if (this.#closed) return;
    this.#sql`SELECT 1`.then(
      () => {
        if (this.#feedVersion >= 0) this.#healthy = true;
        this.#wake();
      },
      () => {
        this.#healthy = false;
      },
    );
  }

  /** Delivers every committed event after the feed's position, in order (coalesced). */
  #wake(): void {
    if (this.#closed || this.#feedVersion < 0) return;
    if (this.#feeding) {
      this.#feedAgain = true;
      return;
    }
    this.#feeding = (async () => {
      for (;;) {
        const events = await this.#readEvents(this.#sql, this.#feedVersion, FEED_BATCH);
        if (events.length === 0) return;
        this.#feedVersion = events.at(-1)?.resourceVersion ?? this.#feedVersion;
        this.#subscribers.publish(events);
      }
    })()
      .catch((error: unknown) => {
        if (isConnectionError(error)) this.#healthy = false;
        else if (!this.#closed) reportListenerError(error);
      })
      .finally(() => {
        this.#feeding = undefined;
        if (this.#feedAgain) {
          this.#feedAgain = false;
          this.#wake();
        }
      });
  }

  healthy(): boolean {
    return this.#healthy && !this.#closed;
  }

  subscribe(listener: (events: StoredEvent[]) => void): () => void {
    return this.#subscribers.add(listener);
  }

  /** Runs `work` once the schema is ready, with database failures as store errors. */
  async #use<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("store is closed");
    // A transaction waiting for another of its own context could exhaust the pool and hang.
    if (this.#inside.getStore()) {
      throw new Error("store.transaction was called inside a transaction; use the transaction's tx instead");
    }
    try {
      await this.#ready;
      return await work();
    } catch (error) {
      throw translateError(error, () => {
        this.#healthy = false;
      });
    }
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#use(async () => {
      let committed = 0;
      const result = await this.#inside.run(true, () =>
        this.#sql.begin(async (sql) => {
          const tx = new PostgresTx(sql, this.#historyLimit);
          const value = await fn(tx);
          committed = await tx.finish();
          return value;
        }),
      );
      // Subscribers have this commit's events by the time the caller hears it committed.
      if (committed > 0) await this.#delivered(committed);
      return result as T;
    });
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    return this.#use(async () => {
      // One snapshot for every statement; read-only transactions never fail to serialise.
      const result = await this.#inside.run(true, () =>
        this.#sql.begin("isolation level repeatable read read only", (sql) =>
          fn(new PostgresTx(sql, this.#historyLimit)),
        ),
      );
      return result as T;
    });
  }

  /** Waits until the change feed has delivered `version`. */
  async #delivered(version: number): Promise<void> {
    while (this.#feedVersion < version && !this.#closed) {
      this.#wake();
      await this.#feeding;
    }
  }

  #reader(): PostgresTx {
    return new PostgresTx(this.#sql, this.#historyLimit);
  }

  getVCluster(namespace: string, name: string): Promise<VCluster | undefined> {
    return this.#use(() => this.#reader().getVCluster(namespace, name));
  }
  getVClusterById(id: string): Promise<VCluster | undefined> {
    return this.#use(() => this.#reader().getVClusterById(id));
  }
  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>> {
    return this.read((r) => r.listVClusters(filter, order, after, limit));
  }
  getSnapshot(id: string): Promise<Snapshot | undefined> {
    return this.#use(() => this.#reader().getSnapshot(id));
  }
  getSnapshotByName(namespace: string, name: string): Promise<Snapshot | undefined> {
    return this.#use(() => this.#reader().getSnapshotByName(namespace, name));
  }
  getSnapshotContent(id: string): Promise<Uint8Array | undefined> {
    return this.#use(() => this.#reader().getSnapshotContent(id));
  }
  listSnapshots(
    filter: SnapshotFilter,
    after: SnapshotCursor | undefined,
    limit: number,
  ): Promise<ListResult<Snapshot>> {
    return this.read((r) => r.listSnapshots(filter, after, limit));
  }
  snapshotsExpiringBefore(time: Date): Promise<Snapshot[]> {
    return this.#use(() => this.#reader().snapshotsExpiringBefore(time));
  }
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    return this.#use(() => this.#reader().getIdempotency(key));
  }
  getOperation(vclusterId: string): Promise<OperationRecord | undefined> {
    return this.#use(() => this.#reader().getOperation(vclusterId));
  }
  currentVersion(): Promise<number> {
    return this.#use(() => this.#reader().currentVersion());
  }
  oldestRetainedVersion(): Promise<number> {
    return this.#use(async () => {
      const [meta] = await this.#sql<{ oldest: string }[]>`SELECT oldest_retained_version AS oldest FROM meta`;
      return Number(meta?.oldest ?? 0);
    });
  }
  eventsAfter(version: number, limit?: number): Promise<StoredEvent[]> {
    return this.#use(() => this.#readEvents(this.#sql, version, limit));
  }

  async #readEvents(db: Db, version: number, limit?: number): Promise<StoredEvent[]> {
    if (limit !== undefined) assertPageLimit(limit);
    const [meta] = await db<{ oldest: string }[]>`SELECT oldest_retained_version AS oldest FROM meta`;
    const oldest = Number(meta?.oldest ?? 0);
    if (version < oldest) throw new HistoryExpiredError(version, oldest);
    const rows = await db<{ resource_version: string; type: number; data: Uint8Array }[]>`
      SELECT resource_version, type, data FROM events WHERE resource_version > ${version}
      ORDER BY resource_version LIMIT ${limit ?? null}`;
    return rows.map((row) => ({
      resourceVersion: Number(row.resource_version),
      type: row.type as WatchEventType,
      vcluster: fromBinary(VClusterSchema, row.data),
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pollTimer);
    this.#subscribers.clear();
    await this.#ready.catch(() => undefined);
    await this.#unlisten?.().catch(() => undefined);
    await this.#feeding;
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * The operations of one transaction (or, on the pool, of single statements). Writes first
 * lock the version counter, which serialises writers from that point until they commit.
 */
class PostgresTx implements StoreTx {
  #locked: { current: number; oldest: number } | undefined;
  #version = 0;
  #wrote = false;

  constructor(
    private readonly db: Db,
    private readonly historyLimit: number,
  ) {}

  async #lock(): Promise<void> {
    if (this.#locked) return;
    const [meta] = await this.db<{ current_version: string; oldest_retained_version: string }[]>`
      SELECT current_version, oldest_retained_version FROM meta WHERE id = 1 FOR UPDATE`;
    this.#locked = { current: Number(meta?.current_version), oldest: Number(meta?.oldest_retained_version) };
    this.#version = this.#locked.current;
    this.#wrote = true;
  }

  /** Stores the new version, trims the history, notifies; the version written (0 = none). */
  async finish(): Promise<number> {
    if (!this.#locked) return 0;
    if (this.#version === this.#locked.current) return 0;
    const cutoff = this.#version - this.historyLimit;
    if (cutoff > this.#locked.oldest) {
      await this.db`DELETE FROM events WHERE resource_version <= ${cutoff}`;
      await this
        .db`UPDATE meta SET current_version = ${this.#version}, oldest_retained_version = ${cutoff} WHERE id = 1`;
    } else {
      await this.db`UPDATE meta SET current_version = ${this.#version} WHERE id = 1`;
    }
    // Delivered at commit only, to every replica's feed.
    await this.db`SELECT pg_notify(${CHANNEL}, ${String(this.#version)})`;
    return this.#version;
  }

  async currentVersion(): Promise<number> {
    if (this.#locked) return this.#version;
    const [meta] = await this.db<{ current_version: string }[]>`SELECT current_version FROM meta WHERE id = 1`;
    return Number(meta?.current_version ?? 0);
  }

  async getVCluster(namespace: string, name: string): Promise<VCluster | undefined> {
    const [row] = await this.db<{ data: Uint8Array }[]>`
      SELECT data FROM vclusters WHERE namespace = ${namespace} AND name = ${name}`;
    return row ? fromBinary(VClusterSchema, row.data) : undefined;
  }

  async getVClusterById(id: string): Promise<VCluster | undefined> {
    const [row] = await this.db<{ data: Uint8Array }[]>`SELECT data FROM vclusters WHERE id = ${id}`;
    return row ? fromBinary(VClusterSchema, row.data) : undefined;
  }

  async #checkExpected(id: string, expected: number | undefined): Promise<number | undefined> {
    const [row] = await this.db<{ resource_version: string }[]>`
      SELECT resource_version FROM vclusters WHERE id = ${id}`;
    const actual = row ? Number(row.resource_version) : undefined;
    if (expected !== undefined && (actual ?? 0) !== expected) {
      throw new VersionConflictError(`vcluster ${id} is at version ${actual ?? 0}, not the expected ${expected}`);
    }
    return actual;
  }

  async #appendEvent(version: number, type: WatchEventType, data: Uint8Array): Promise<void> {
    await this.db`INSERT INTO events (resource_version, type, data) VALUES (${version}, ${type}, ${data})`;
  }

  async putVCluster(vcluster: VCluster, expectedVersion?: number): Promise<VCluster> {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    await this.#lock();
    const [holder] = await this.db<{ id: string }[]>`
      SELECT id FROM vclusters WHERE namespace = ${vcluster.namespace} AND name = ${vcluster.name}`;
    if (holder && holder.id !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, holder.id);
    }
    const previous = await this.#checkExpected(vcluster.id, expectedVersion);
    const version = ++this.#version;
    const stored = clone(VClusterSchema, vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    const data = toBinary(VClusterSchema, stored);
    const row = {
      id: stored.id,
      namespace: stored.namespace,
      name: stored.name,
      create_time_ms: timestampToMs(stored.createTime),
      phase: stored.status?.phase ?? Phase.UNSPECIFIED,
      owner: stored.owner,
      project: stored.project,
      labels: this.db.json(stored.labels),
      resource_version: version,
      data,
    };
    await this.db`
      INSERT INTO vclusters ${this.db(row)}
      ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
        create_time_ms = excluded.create_time_ms, phase = excluded.phase, owner = excluded.owner,
        project = excluded.project, labels = excluded.labels, resource_version = excluded.resource_version,
        data = excluded.data`;
    await this.#appendEvent(version, previous === undefined ? WatchEventType.ADDED : WatchEventType.MODIFIED, data);
    return clone(VClusterSchema, stored);
  }

  async deleteVCluster(id: string, expectedVersion?: number): Promise<VCluster | undefined> {
    await this.#lock();
    await this.#checkExpected(id, expectedVersion);
    const final = await this.getVClusterById(id);
    if (!final) return undefined;
    const version = ++this.#version;
    final.annotations[Annotations.resourceVersion] = String(version);
    await this.db`DELETE FROM vclusters WHERE id = ${id}`;
    await this.db`DELETE FROM operations WHERE vcluster_id = ${id}`;
    await this.#appendEvent(version, WatchEventType.DELETED, toBinary(VClusterSchema, final));
    return clone(VClusterSchema, final);
  }

  async listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>> {
    assertPageLimit(limit);
    const where = new Where();
    if (filter.namespace !== undefined) where.add("namespace = ?", filter.namespace);
    if (filter.name !== undefined) where.add("name = ?", filter.name);
    if (filter.phases !== undefined && filter.phases.length > 0) where.add("phase = ANY(?::int[])", filter.phases);
    if (filter.owner !== undefined) where.add("owner = ?", filter.owner);
    if (filter.project !== undefined) where.add("project = ?", filter.project);
    if (filter.visibleTo !== undefined) {
      where.add("(owner = ? OR project = ANY(?::text[]))", filter.visibleTo.owner, filter.visibleTo.projects);
    }
    const jsLabels = where.labels(filter.labels);
    const page = new Where(where);
    if (after !== undefined) {
      if (order === "name") page.add("(namespace, name) > (?, ?)", after.namespace, after.name);
      else if (order === "create_time") page.add("(create_time_ms, id) > (?, ?)", after.createTimeMs, after.id);
      else page.add("(create_time_ms, id) < (?, ?)", after.createTimeMs, after.id);
    }
    const orderBy =
      order === "name"
        ? "namespace, name"
        : order === "create_time"
          ? "create_time_ms, id"
          : "create_time_ms DESC, id DESC";
    return this.#list("vclusters", where, page, orderBy, limit, jsLabels, (data) => fromBinary(VClusterSchema, data));
  }

  /** A page plus the exact count; both in SQL (using the indexes) unless a label predicate must run here. */
  async #list<T>(
    table: "vclusters" | "snapshots",
    where: Where,
    page: Where,
    orderBy: string,
    limit: number,
    jsLabels: LabelPredicate | undefined,
    decode: (data: Uint8Array) => T,
  ): Promise<ListResult<T>> {
    if (jsLabels === undefined) {
      const rows = await this.db.unsafe<{ data: Uint8Array }[]>(
        `SELECT data FROM ${table}${page.sql()} ORDER BY ${orderBy} LIMIT ${limit + 1}`,
        page.params as never[],
      );
      const items = rows.slice(0, limit).map((row) => decode(row.data));
      const hasMore = rows.length > limit;
      let total = items.length;
      if (hasMore || page.size !== where.size) {
        const [count] = await this.db.unsafe<{ count: string }[]>(
          `SELECT count(*) AS count FROM ${table}${where.sql()}`,
          where.params as never[],
        );
        total = Number(count?.count ?? 0);
      }
      return { items, total, hasMore };
    }
    const all = await this.db.unsafe<{ labels: Record<string, string>; data: Uint8Array; after: boolean }[]>(
      `SELECT labels, data, ${page.size === where.size ? "true" : page.condition(where.size)} AS after
       FROM ${table}${where.sql()} ORDER BY ${orderBy}`,
      page.params as never[],
    );
    const matching = all.filter((row) => jsLabels(row.labels));
    const rest = matching.filter((row) => row.after);
    return {
      items: rest.slice(0, limit).map((row) => decode(row.data)),
      total: matching.length,
      hasMore: rest.length > limit,
    };
  }

  async getSnapshot(id: string): Promise<Snapshot | undefined> {
    const [row] = await this.db<{ data: Uint8Array }[]>`SELECT data FROM snapshots WHERE id = ${id}`;
    return row ? fromBinary(SnapshotSchema, row.data) : undefined;
  }

  async getSnapshotByName(namespace: string, name: string): Promise<Snapshot | undefined> {
    const [row] = await this.db<{ data: Uint8Array }[]>`
      SELECT data FROM snapshots WHERE namespace = ${namespace} AND name = ${name}`;
    return row ? fromBinary(SnapshotSchema, row.data) : undefined;
  }

  async putSnapshot(snapshot: Snapshot, content?: Uint8Array): Promise<void> {
    if (snapshot.id === "") throw new TypeError("snapshot.id is required");
    await this.#lock();
    const [holder] = await this.db<{ id: string }[]>`
      SELECT id FROM snapshots WHERE namespace = ${snapshot.namespace} AND name = ${snapshot.name}`;
    if (holder && holder.id !== snapshot.id) {
      throw new NameConflictError("snapshot", snapshot.namespace, snapshot.name, holder.id);
    }
    const row = {
      id: snapshot.id,
      namespace: snapshot.namespace,
      name: snapshot.name,
      vcluster_id: snapshot.vclusterId,
      vcluster_name: snapshot.vclusterName,
      create_time_ms: timestampToMs(snapshot.createTime),
      expire_time_ms: snapshot.expireTime === undefined ? null : timestampToMs(snapshot.expireTime),
      labels: this.db.json(snapshot.labels),
      data: toBinary(SnapshotSchema, snapshot),
    };
    await this.db`
      INSERT INTO snapshots ${this.db(row)}
      ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
        vcluster_id = excluded.vcluster_id, vcluster_name = excluded.vcluster_name,
        create_time_ms = excluded.create_time_ms, expire_time_ms = excluded.expire_time_ms,
        labels = excluded.labels, data = excluded.data`;
    if (content !== undefined) {
      await this.db`
        INSERT INTO snapshot_contents (snapshot_id, content) VALUES (${snapshot.id}, ${content})
        ON CONFLICT (snapshot_id) DO UPDATE SET content = excluded.content`;
    }
  }

  async getSnapshotContent(id: string): Promise<Uint8Array | undefined> {
    const [row] = await this.db<{ content: Uint8Array }[]>`
      SELECT content FROM snapshot_contents WHERE snapshot_id = ${id}`;
    return row ? new Uint8Array(row.content) : undefined;
  }

  async deleteSnapshot(id: string): Promise<boolean> {
    await this.#lock();
    const result = await this.db`DELETE FROM snapshots WHERE id = ${id}`;
    return result.count > 0;
  }

  async listSnapshots(
    filter: SnapshotFilter,
    after: SnapshotCursor | undefined,
    limit: number,
  ): Promise<ListResult<Snapshot>> {
    assertPageLimit(limit);
    const where = new Where();
    if (filter.namespace !== undefined) where.add("namespace = ?", filter.namespace);
    if (filter.vclusterName !== undefined) where.add("vcluster_name = ?", filter.vclusterName);
    if (filter.vclusterId !== undefined) where.add("vcluster_id = ?", filter.vclusterId);
    if (filter.visibleVClusterIds !== undefined) {
      where.add("vcluster_id = ANY(?::text[])", [...filter.visibleVClusterIds]);
    }
    const jsLabels = where.labels(filter.labels);
    const page = new Where(where);
    if (after !== undefined) page.add("(create_time_ms, id) < (?, ?)", after.createTimeMs, after.id);
    return this.#list("snapshots", where, page, "create_time_ms DESC, id DESC", limit, jsLabels, (data) =>
      fromBinary(SnapshotSchema, data),
    );
  }

  async snapshotsExpiringBefore(time: Date): Promise<Snapshot[]> {
    const rows = await this.db<{ data: Uint8Array }[]>`
      SELECT data FROM snapshots WHERE expire_time_ms IS NOT NULL AND expire_time_ms <= ${time.getTime()}
      ORDER BY expire_time_ms, id`;
    return rows.map((row) => fromBinary(SnapshotSchema, row.data));
  }

  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.db<{ fingerprint: string; response: Uint8Array; create_time_ms: string }[]>`
      SELECT fingerprint, response, create_time_ms FROM idempotency WHERE key = ${key}`;
    if (!row) return undefined;
    return {
      key,
      fingerprint: row.fingerprint,
      response: new Uint8Array(row.response),
      createTime: new Date(Number(row.create_time_ms)),
    };
  }

  async putIdempotency(record: IdempotencyRecord): Promise<void> {
    await this.#lock();
    await this.db`
      INSERT INTO idempotency (key, fingerprint, response, create_time_ms)
      VALUES (${record.key}, ${record.fingerprint}, ${record.response}, ${record.createTime.getTime()})
      ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, response = excluded.response,
        create_time_ms = excluded.create_time_ms`;
  }

  async deleteIdempotencyBefore(time: Date): Promise<number> {
    await this.#lock();
    const result = await this.db`DELETE FROM idempotency WHERE create_time_ms < ${time.getTime()}`;
    return result.count;
  }

  async getOperation(vclusterId: string): Promise<OperationRecord | undefined> {
    const [row] = await this.db<
      Row[]
    >`SELECT *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms FROM operations WHERE vcluster_id = ${vclusterId}`;
    return row ? decodeOperation(row) : undefined;
  }

  async putOperation(
    vclusterId: string,
    operation: OperationRecord["operation"],
    lease: { owner: string; leaseMs: number } | { waiting: true },
  ): Promise<OperationRecord> {
    await this.#lock();
    const waiting = "waiting" in lease;
    const [row] = await this.db<Row[]>`
      INSERT INTO operations (vcluster_id, operation, waiting, owner, lease_expires)
      VALUES (${vclusterId}, ${this.db.json(operation as never)}, ${waiting}, ${waiting ? "" : lease.owner},
        CASE WHEN ${waiting} THEN '-infinity'::timestamptz
          ELSE clock_timestamp() + ${waiting ? 0 : lease.leaseMs} * interval '1 ms' END)
      ON CONFLICT (vcluster_id) DO UPDATE SET operation = excluded.operation, waiting = excluded.waiting,
        owner = excluded.owner, lease_expires = excluded.lease_expires,
        sequence = nextval(pg_get_serial_sequence('operations', 'sequence'))
      RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`;
    return decodeOperation(row as Row);
  }

  async deleteOperation(vclusterId: string, operationId?: string): Promise<boolean> {
    await this.#lock();
    const result =
      operationId === undefined
        ? await this.db`DELETE FROM operations WHERE vcluster_id = ${vclusterId}`
        : await this.db`DELETE FROM operations WHERE vcluster_id = ${vclusterId} AND operation->>'id' = ${operationId}`;
    return result.count > 0;
  }

  async claimOperations(request: ClaimRequest): Promise<OperationRecord[]> {
    await this.#lock();
    const lease = request.leaseMs;
    // Records another claimer holds right now are skipped, not waited for.
    const expired = await this.db<Row[]>`
      UPDATE operations SET owner = ${request.owner}, lease_expires = clock_timestamp() + ${lease} * interval '1 ms'
      WHERE vcluster_id IN (
        SELECT vcluster_id FROM operations
        WHERE NOT waiting AND (owner = '' OR lease_expires <= clock_timestamp()
          OR (${request.takeOverLive ?? false} AND owner <> ${request.owner}))
        ORDER BY sequence LIMIT ${request.limit} FOR UPDATE SKIP LOCKED)
      RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`;
    const claimed = expired.map(decodeOperation);
    const max = request.maxActiveCreates ?? 0;
    const room = request.limit - claimed.length;
    if (room > 0) {
      const { active } = await this.countActiveCreates();
      const free = max === 0 ? room : Math.min(room, max - active);
      if (free > 0) {
        const promoted = await this.db<Row[]>`
          UPDATE operations SET waiting = false, owner = ${request.owner},
            lease_expires = clock_timestamp() + ${lease} * interval '1 ms'
          WHERE vcluster_id IN (
            SELECT vcluster_id FROM operations WHERE waiting ORDER BY sequence LIMIT ${free} FOR UPDATE SKIP LOCKED)
          RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`;
        claimed.push(...promoted.map(decodeOperation));
      }
    }
    return claimed.sort((a, b) => a.sequence - b.sequence);
  }

  async renewLeases(owner: string, vclusterIds: readonly string[], leaseMs: number): Promise<string[]> {
    if (vclusterIds.length === 0) return [];
    await this.#lock();
    const rows = await this.db<{ vcluster_id: string }[]>`
      UPDATE operations SET lease_expires = clock_timestamp() + ${leaseMs} * interval '1 ms'
      WHERE owner = ${owner} AND vcluster_id = ANY(${vclusterIds as string[]}::text[]) RETURNING vcluster_id`;
    return rows.map((row) => row.vcluster_id);
  }

  async countActiveCreates(): Promise<{ active: number; waiting: number }> {
    await this.#lock();
    const [row] = await this.db<{ active: string; waiting: string }[]>`
      SELECT count(*) FILTER (WHERE NOT waiting) AS active, count(*) FILTER (WHERE waiting) AS waiting
      FROM operations WHERE operation->>'kind' = 'create'`;
    return { active: Number(row?.active ?? 0), waiting: Number(row?.waiting ?? 0) };
  }

  async claimHousekeeping(intervalMs: number): Promise<boolean> {
    await this.#lock();
    const result = await this.db`
      UPDATE meta SET housekeeping_due = clock_timestamp() + ${intervalMs} * interval '1 ms'
      WHERE id = 1 AND housekeeping_due <= clock_timestamp()`;
    return result.count > 0;
  }
}

function decodeOperation(row: Row): OperationRecord {
  const expires = Number(row.lease_expires_ms);
  return {
    vclusterId: String(row.vcluster_id),
    operation: row.operation as OperationRecord["operation"],
    waiting: row.waiting === true,
    owner: String(row.owner),
    leaseExpiresMs: Number.isFinite(expires) ? expires : 0,
    sequence: Number(row.sequence),
  };
}

/** Conditions with positional parameters ($1, $2, …) written as "?". */
class Where {
  readonly clauses: string[];
  readonly params: unknown[];

  constructor(base?: Where) {
    this.clauses = base ? [...base.clauses] : [];
    this.params = base ? [...base.params] : [];
  }

  get size(): number {
    return this.clauses.length;
  }

  add(clause: string, ...values: unknown[]): void {
    let text = clause;
    for (const value of values) {
      this.params.push(value);
      text = text.replace("?", `$${this.params.length}`);
    }
    this.clauses.push(text);
  }

  /**
   * The label selector as jsonb conditions the GIN index answers (@> containment and ? key
   * existence), with Kubernetes semantics for absent keys. Returns the predicate when it can
   * only run in JavaScript (it carries no requirements).
   */
  labels(labels: LabelPredicate | undefined): LabelPredicate | undefined {
    if (labels === undefined) return undefined;
    if (labels.requirements === undefined) return labels;
    for (const { key, operator, values } of labels.requirements) {
      const contains = (value: string) => {
        this.params.push(JSON.stringify({ [key]: value }));
        return `labels @> $${this.params.length}::jsonb`;
      };
      const anyOf = () => `(${values.map(contains).join(" OR ") || "false"})`;
      switch (operator) {
        case "=":
          this.clauses.push(contains(values[0] ?? ""));
          break;
        case "!=":
          this.clauses.push(`NOT ${contains(values[0] ?? "")}`);
          break;
        case "in":
          this.clauses.push(anyOf());
          break;
        case "notin":
          this.clauses.push(`NOT ${anyOf()}`);
          break;
        case "exists":
          this.params.push(key);
          this.clauses.push(`labels ? $${this.params.length}`);
          break;
        case "!exists":
          this.params.push(key);
          this.clauses.push(`NOT (labels ? $${this.params.length})`);
          break;
      }
    }
    return undefined;
  }

  sql(): string {
    return this.clauses.length === 0 ? "" : ` WHERE ${this.clauses.join(" AND ")}`;
  }

  /** The clauses from `from` on, as one boolean expression. */
  condition(from: number): string {
    return this.clauses.slice(from).join(" AND ") || "true";
  }
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
}

function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  return CONNECTION_CODES.has(code) || code.startsWith("08");
}

/** Database errors in the store's terms: unreachable, conflicting, or as they are. */
function translateError(error: unknown, onUnavailable: () => void): unknown {
  if (error instanceof VersionConflictError || error instanceof StoreUnavailableError) return error;
  const code = errorCode(error);
  if (isConnectionError(error)) {
    onUnavailable();
    return new StoreUnavailableError(`database unreachable (${code})`, { cause: error });
  }
  // serialization_failure, deadlock_detected, unique_violation (two inserts of one name at once).
  if (code === "40001" || code === "40P01" || code === "23505") {
    return new VersionConflictError(`concurrent transaction won (${code})`, { cause: error });
  }
  if (code === "57014") return new StoreUnavailableError("statement timeout", { cause: error });
  return error;
}
