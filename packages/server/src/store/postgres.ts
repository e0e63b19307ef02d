import { AsyncLocalStorage } from "node:async_hooks";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import type { LabelRequirement } from "@open-vcluster/core";
import pg from "pg";
import { copyVCluster } from "./copy.js";
import { timestampToMs } from "./cursors.js";
import { DecodedVClusters } from "./frozen.js";
import { assertPageLimit, drivingCandidates } from "./matching.js";
import { migratePostgres } from "./postgres-schema.js";
import { Tallies } from "./tallies.js";
import { historyLimitOf, reportListenerError, Subscribers } from "./transactional-store.js";
import type {
  ClaimRequest,
  HistoryAppend,
  HistoryEntry,
  HistoryEntryInit,
  HistoryKind,
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

/** TLS to the database: verify the server (optionally against `ca`), or only encrypt ("require"). */
export type PostgresTls = false | true | "require" | { ca: string };

export interface PostgresStoreOptions extends StoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Statements running longer are cancelled (default 30 s; 0 = no limit). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** TLS to the database (default: as the URL's sslmode says, else none). */
  ssl?: PostgresTls;
  /** How often the change feed looks for commits when no notification came (default 1000 ms). */
  pollIntervalMs?: number;
}

const CHANNEL = "open_vcluster_events";
const FEED_BATCH = 1000;

type Db = Pick<pg.ClientBase, "query">;
type Row = Record<string, unknown>;
/** A listed row: its id and its encoded object. */
type EncodedRow = { id: string; data: Uint8Array };

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
  readonly #pool: pg.Pool;
  readonly #config: pg.PoolConfig;
  readonly #historyLimit: number;
  readonly #decoded = new DecodedVClusters();
  readonly #subscribers: Subscribers;
  readonly #ready: Promise<void>;
  readonly #pollTimer: NodeJS.Timeout;
  readonly #inside = new AsyncLocalStorage<true>();
  #healthy = false;
  #closed = false;
  #feedVersion = -1;
  #feeding: Promise<void> | undefined;
  #feedAgain = false;
  #feedFailed = false;
  #listener: pg.Client | undefined;
  #listening = false;

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#historyLimit = historyLimitOf(options);
    this.#subscribers = new Subscribers(options.onListenerError ?? reportListenerError);
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    this.#config = {
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 60_000,
      application_name: "vcluster-api-server",
      ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
      ...(options.ssl !== undefined ? { ssl: tlsOptions(options.ssl) } : {}),
    };
    this.#pool = new pg.Pool(this.#config);
    // An idle connection the server dropped: the pool replaces it; the next query notices.
    this.#pool.on("error", () => {
      this.#healthy = false;
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
        await migratePostgres(this.#pool);
        break;
      } catch (error) {
        if (this.#closed || !isConnectionError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
    const meta = await this.#pool.query<{ current_version: string }>("SELECT current_version FROM meta WHERE id = 1");
    this.#feedVersion = Number(meta.rows[0]?.current_version ?? 0);
    await this.#listen().catch(() => undefined);
    this.#healthy = this.#listening;
  }

  /** A connection of its own that LISTENs; when it is lost, the heartbeat opens another. */
  async #listen(): Promise<void> {
    if (this.#listening || this.#closed) return;
    const client = new pg.Client(this.#config);
    const lost = () => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#listening = false;
      this.#healthy = false;
      client.end().catch(() => undefined);
    };
    client.on("error", lost);
    client.on("end", lost);
    client.on("notification", () => this.#wake());
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      lost();
      throw error;
    }
    this.#listening = true;
    // Whatever was committed while nobody listened.
    this.#wake();
  }

  #heartbeat(): void {
    if (this.#closed || this.#feedVersion < 0) return;
    this.#listen()
      .then(() => this.#pool.query("SELECT 1"))
      .then(
        () => {
          this.#healthy = this.#listening;
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
    this.#feedFailed = false;
    this.#feeding = (async () => {
      for (;;) {
        let events: StoredEvent[];
        try {
          events = await this.#readEvents(this.#pool, this.#feedVersion, FEED_BATCH);
        } catch (error) {
          if (!(error instanceof HistoryExpiredError)) throw error;
          // This process stalled while others wrote more than the history keeps: what it
          // missed is gone. Say so (watches end, clients list again) and go on from what is kept.
          this.#feedVersion = error.oldestRetainedVersion;
          this.#subscribers.gap(error);
          continue;
        }
        if (events.length === 0) return;
        this.#feedVersion = events.at(-1)?.resourceVersion ?? this.#feedVersion;
        this.#subscribers.publish(events);
      }
    })()
      .catch((error: unknown) => {
        this.#feedFailed = true;
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

  subscribe(
    listener: (events: readonly StoredEvent[]) => void,
    onGap?: (gap: HistoryExpiredError) => void,
  ): () => void {
    return this.#subscribers.add(listener, onGap);
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

  /** Runs fn between `begin` and COMMIT on a connection of its own (ROLLBACK when it throws). */
  async #begin<T>(begin: string, fn: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: unknown;
    // A connection lost mid-transaction is reported by the failing query; without a listener
    // its "error" event would crash the process.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      await client.query(begin);
      const result = await this.#inside.run(true, () => fn(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken = error;
      else await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError));
      throw error;
    } finally {
      // A connection in an unknown state is closed, not reused.
      client.off("error", onError);
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
    }
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#use(async () => {
      let committed = 0;
      const result = await this.#begin("BEGIN", async (db) => {
        const tx = new PostgresTx(db, this.#historyLimit, this.#decoded);
        const value = await fn(tx);
        committed = await tx.finish();
        return value;
      });
      // Subscribers have this commit's events by the time the caller hears it committed.
      if (committed > 0) await this.#delivered(committed);
      return result;
    });
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    // One snapshot for every statement; read-only transactions never fail to serialise.
    return this.#use(() =>
      this.#begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", (db) =>
        fn(new PostgresTx(db, this.#historyLimit, this.#decoded)),
      ),
    );
  }

  /** Waits until the change feed has delivered `version` (or failed: it catches up later). */
  async #delivered(version: number): Promise<void> {
    while (this.#feedVersion < version && !this.#closed) {
      this.#wake();
      await this.#feeding;
      if (this.#feedFailed) return;
    }
  }

  #reader(): PostgresTx {
    return new PostgresTx(this.#pool, this.#historyLimit, this.#decoded);
  }

  getVCluster(namespace: string, name: string): Promise<VCluster | undefined> {
    return this.#use(() => this.#reader().getVCluster(namespace, name));
  }
  getVClusterById(id: string): Promise<VCluster | undefined> {
    return this.#use(() => this.#reader().getVClusterById(id));
  }
  peekVCluster(namespace: string, name: string): Promise<Readonly<VCluster> | undefined> {
    return this.#use(() => this.#reader().peekVCluster(namespace, name));
  }
  peekVClusterById(id: string): Promise<Readonly<VCluster> | undefined> {
    return this.#use(() => this.#reader().peekVClusterById(id));
  }
  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>> {
    return this.read((r) => r.listVClusters(filter, order, after, limit));
  }
  peekVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<Readonly<VCluster>>> {
    return this.read((r) => r.peekVClusters(filter, order, after, limit));
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
  listHistory(kind: HistoryKind, vclusterId: string, afterSequence: number, limit: number): Promise<HistoryEntry[]> {
    return this.#use(() => this.#reader().listHistory(kind, vclusterId, afterSequence, limit));
  }
  currentVersion(): Promise<number> {
    return this.#use(() => this.#reader().currentVersion());
  }
  oldestRetainedVersion(): Promise<number> {
    return this.#use(async () => {
      const meta = await this.#pool.query<{ oldest: string }>("SELECT oldest_retained_version AS oldest FROM meta");
      return Number(meta.rows[0]?.oldest ?? 0);
    });
  }
  eventsAfter(version: number, limit?: number): Promise<StoredEvent[]> {
    return this.#use(() => this.#readEvents(this.#pool, version, limit));
  }

  async #readEvents(db: Db, version: number, limit?: number): Promise<StoredEvent[]> {
    if (limit !== undefined) assertPageLimit(limit);
    // One statement, so one snapshot: read apart, a trim committed between the two reads would
    // let a process that stalled pass the events after a gap off as continuous.
    const rows = await db.query<{ oldest: string; resource_version: string | null; type: number; data: Uint8Array }>(
      `SELECT m.oldest_retained_version AS oldest, e.resource_version, e.type, e.data
       FROM meta m LEFT JOIN LATERAL (
         SELECT resource_version, type, data FROM events WHERE resource_version > $1
         ORDER BY resource_version LIMIT $2
       ) e ON true
       WHERE m.id = 1`,
      [version, limit ?? null],
    );
    const oldest = Number(rows.rows[0]?.oldest ?? 0);
    if (version < oldest) throw new HistoryExpiredError(version, oldest);
    return rows.rows.flatMap((row) =>
      row.resource_version === null
        ? []
        : [
            {
              resourceVersion: Number(row.resource_version),
              type: row.type as WatchEventType,
              vcluster: fromBinary(VClusterSchema, row.data),
            },
          ],
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pollTimer);
    this.#subscribers.clear();
    await this.#ready.catch(() => undefined);
    await this.#feeding;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end();
  }
}

function tlsOptions(tls: PostgresTls): pg.ClientConfig["ssl"] {
  if (tls === "require") return { rejectUnauthorized: false };
  if (typeof tls === "object") return { ca: tls.ca, rejectUnauthorized: true };
  return tls;
}

/**
 * The operations of one transaction (or, on the pool, of single statements). Writes first
 * lock the version counter, which serialises writers from that point until they commit.
 */
class PostgresTx implements StoreTx {
  #locked: { current: number; oldest: number } | undefined;
  #version = 0;
  // vclusters added minus removed, written to meta.vcluster_count with the version.
  #countDelta = 0;
  // Changes to the kept tallies (label pairs, namespaces), written with the version.
  readonly #tallies = new Tallies();

  constructor(
    private readonly db: Db,
    private readonly historyLimit: number,
    private readonly decoded: DecodedVClusters,
  ) {}

  async q<R = Row[]>(text: string, params: unknown[]): Promise<R> {
    const result = await this.db.query(text, params);
    return result.rows as R;
  }

  /** Runs a write; how many rows it changed. */
  async exec(text: string, params: unknown[]): Promise<number> {
    return (await this.db.query(text, params)).rowCount ?? 0;
  }

  async #lock(): Promise<void> {
    if (this.#locked) return;
    const [meta] = await this.q<{ current_version: string; oldest_retained_version: string }[]>(
      `
      SELECT current_version, oldest_retained_version FROM meta WHERE id = 1 FOR UPDATE`,
      [],
    );
    this.#locked = { current: Number(meta?.current_version), oldest: Number(meta?.oldest_retained_version) };
    this.#version = this.#locked.current;
  }

  /**
   * Stores the new version and the tallies, trims the history and notifies, in one statement:
   * writers queue on the version lock until they commit, so every round trip here is one
   * every other writer waits for. The version written (0 = none).
   */
  async finish(): Promise<number> {
    if (!this.#locked) return 0;
    if (this.#version === this.#locked.current) return 0;
    const cutoff = Math.max(this.#locked.oldest, this.#version - this.historyLimit);
    const labels = this.#tallies.columns("label");
    const namespaces = this.#tallies.columns("namespace");
    await this.q(
      `
      WITH trimmed AS (DELETE FROM events WHERE resource_version <= $2 AND $2 > $3),
        labels AS (
          INSERT INTO label_counts (key, value, count)
          SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[])
          ON CONFLICT (key, value) DO UPDATE SET count = label_counts.count + excluded.count),
        namespaces AS (
          INSERT INTO namespace_counts (namespace, count)
          SELECT * FROM unnest($8::text[], $9::bigint[])
          ON CONFLICT (namespace) DO UPDATE SET count = namespace_counts.count + excluded.count),
        meta AS (
          UPDATE meta SET current_version = $1, oldest_retained_version = $2, vcluster_count = vcluster_count + $4
          WHERE id = 1 RETURNING current_version)
      SELECT pg_notify($10, current_version::text) FROM meta`,
      [
        this.#version,
        cutoff,
        this.#locked.oldest,
        this.#countDelta,
        labels.first,
        labels.second,
        labels.deltas,
        namespaces.first,
        namespaces.deltas,
        CHANNEL,
      ],
    );
    await this.#dropEmptyTallies(labels, namespaces);
    return this.#version;
  }

  /**
   * Writes the counts this transaction changed so far (the tallies and the total), so that its
   * own lists count its own writes; the commit writes the rest with the version.
   */
  async #writeCounts(): Promise<void> {
    if (this.#tallies.empty && this.#countDelta === 0) return;
    const labels = this.#tallies.columns("label");
    const namespaces = this.#tallies.columns("namespace");
    await this.q(
      `
      WITH labels AS (
          INSERT INTO label_counts (key, value, count)
          SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
          ON CONFLICT (key, value) DO UPDATE SET count = label_counts.count + excluded.count),
        namespaces AS (
          INSERT INTO namespace_counts (namespace, count)
          SELECT * FROM unnest($4::text[], $5::bigint[])
          ON CONFLICT (namespace) DO UPDATE SET count = namespace_counts.count + excluded.count)
      UPDATE meta SET vcluster_count = vcluster_count + $6 WHERE id = 1`,
      [labels.first, labels.second, labels.deltas, namespaces.first, namespaces.deltas, this.#countDelta],
    );
    await this.#dropEmptyTallies(labels, namespaces);
    this.#countDelta = 0;
  }

  /** A tally that reached zero goes, so tallies of values nobody carries never pile up. */
  async #dropEmptyTallies(
    labels: { first: string[]; second: string[] },
    namespaces: { first: string[] },
  ): Promise<void> {
    if (this.#tallies.decreased) {
      await this.q(
        `
        WITH labels AS (
          DELETE FROM label_counts WHERE count = 0 AND (key, value) IN (SELECT * FROM unnest($1::text[], $2::text[])))
        DELETE FROM namespace_counts WHERE count = 0 AND namespace = ANY($3::text[])`,
        [labels.first, labels.second, namespaces.first],
      );
    }
    this.#tallies.clear();
  }

  async currentVersion(): Promise<number> {
    if (this.#locked) return this.#version;
    const [meta] = await this.q<{ current_version: string }[]>(`SELECT current_version FROM meta WHERE id = 1`, []);
    return Number(meta?.current_version ?? 0);
  }

  async getVCluster(namespace: string, name: string): Promise<VCluster | undefined> {
    const [row] = await this.q<{ data: Uint8Array }[]>(
      `
      SELECT data FROM vclusters WHERE namespace = $1 AND name = $2`,
      [namespace, name],
    );
    return row ? fromBinary(VClusterSchema, row.data) : undefined;
  }

  async getVClusterById(id: string): Promise<VCluster | undefined> {
    const [row] = await this.q<{ data: Uint8Array }[]>(`SELECT data FROM vclusters WHERE id = $1`, [id]);
    return row ? fromBinary(VClusterSchema, row.data) : undefined;
  }

  async peekVCluster(namespace: string, name: string): Promise<Readonly<VCluster> | undefined> {
    const [row] = await this.q<{ id: string; data: Uint8Array }[]>(
      `SELECT id, data FROM vclusters WHERE namespace = $1 AND name = $2`,
      [namespace, name],
    );
    return row ? this.decoded.decode(row.id, row.data) : undefined;
  }

  async peekVClusterById(id: string): Promise<Readonly<VCluster> | undefined> {
    const [row] = await this.q<{ id: string; data: Uint8Array }[]>(`SELECT id, data FROM vclusters WHERE id = $1`, [
      id,
    ]);
    return row ? this.decoded.decode(row.id, row.data) : undefined;
  }

  async putVCluster(vcluster: VCluster, expectedVersion?: number): Promise<VCluster> {
    if (vcluster.id === "") throw new TypeError("vcluster.id is required");
    await this.#lock();
    // The name's holder and the row itself, in one round trip.
    const found = await this.q<
      {
        id: string;
        namespace: string;
        name: string;
        create_time_ms: string;
        labels: Record<string, string>;
        resource_version: string;
      }[]
    >(
      `
      SELECT id, namespace, name, create_time_ms, labels, resource_version FROM vclusters
      WHERE id = $1 OR (namespace = $2 AND name = $3)`,
      [vcluster.id, vcluster.namespace, vcluster.name],
    );
    const holder = found.find((row) => row.namespace === vcluster.namespace && row.name === vcluster.name);
    if (holder && holder.id !== vcluster.id) {
      throw new NameConflictError("vcluster", vcluster.namespace, vcluster.name, holder.id);
    }
    const previous = found.find((row) => row.id === vcluster.id);
    checkVersion(vcluster.id, previous === undefined ? undefined : Number(previous.resource_version), expectedVersion);
    const version = ++this.#version;
    const stored = copyVCluster(vcluster);
    stored.annotations[Annotations.resourceVersion] = String(version);
    const data = toBinary(VClusterSchema, stored);
    const createTimeMs = timestampToMs(stored.createTime);
    const labels = JSON.stringify(stored.labels);
    // The row, its event and its label pairs in one statement. Pairs that are no longer the
    // vcluster's (another value, or other sort keys) go; the rest are written or kept.
    await this.q(
      `
      WITH upserted AS (
          INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels, resource_version, data)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
          ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
            create_time_ms = excluded.create_time_ms, phase = excluded.phase, owner = excluded.owner,
            project = excluded.project, labels = excluded.labels, resource_version = excluded.resource_version,
            data = excluded.data),
        event AS (INSERT INTO events (resource_version, type, data) VALUES ($9, $11, $10)),
        wanted AS (SELECT key, value FROM jsonb_each_text($8::jsonb)),
        gone AS (
          DELETE FROM vcluster_labels WHERE vcluster_id = $1
            AND (key, value, namespace, name) NOT IN (SELECT key, value, $2, $3 FROM wanted))
      INSERT INTO vcluster_labels (key, value, namespace, name, create_time_ms, vcluster_id)
      SELECT key, value, $2, $3, $4, $1 FROM wanted
      ON CONFLICT (key, value, namespace, name) DO UPDATE SET create_time_ms = excluded.create_time_ms
        WHERE vcluster_labels.create_time_ms <> excluded.create_time_ms`,
      [
        stored.id,
        stored.namespace,
        stored.name,
        createTimeMs,
        stored.status?.phase ?? Phase.UNSPECIFIED,
        stored.owner,
        stored.project,
        labels,
        version,
        data,
        previous === undefined ? WatchEventType.ADDED : WatchEventType.MODIFIED,
      ],
    );
    if (previous === undefined) this.#countDelta += 1;
    this.#tallies.move(previous, stored);
    return copyVCluster(stored);
  }

  async deleteVCluster(id: string, expectedVersion?: number): Promise<VCluster | undefined> {
    await this.#lock();
    const [row] = await this.q<{ resource_version: string; data: Uint8Array }[]>(
      `SELECT resource_version, data FROM vclusters WHERE id = $1`,
      [id],
    );
    checkVersion(id, row === undefined ? undefined : Number(row.resource_version), expectedVersion);
    if (!row) return undefined;
    const final = fromBinary(VClusterSchema, row.data);
    const version = ++this.#version;
    final.annotations[Annotations.resourceVersion] = String(version);
    // Its label pairs go with it (ON DELETE CASCADE); the rest in the same round trip.
    await this.q(
      `
      WITH removed AS (DELETE FROM vclusters WHERE id = $1),
        operation AS (DELETE FROM operations WHERE vcluster_id = $1),
        timeline AS (DELETE FROM history WHERE vcluster_id = $1)
      INSERT INTO events (resource_version, type, data) VALUES ($2, $3, $4)`,
      [id, version, WatchEventType.DELETED, toBinary(VClusterSchema, final)],
    );
    this.#countDelta -= 1;
    this.#tallies.move({ namespace: final.namespace, labels: final.labels }, undefined);
    return copyVCluster(final);
  }

  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>> {
    return this.#listVClusters(filter, order, after, limit, (row) => fromBinary(VClusterSchema, row.data));
  }

  peekVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<Readonly<VCluster>>> {
    return this.#listVClusters(filter, order, after, limit, (row) => this.decoded.decode(row.id, row.data));
  }

  async #listVClusters<T extends Readonly<VCluster>>(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
    decode: (row: EncodedRow) => T,
  ): Promise<ListResult<T>> {
    assertPageLimit(limit);
    await this.#writeCounts();
    const where = vclusterWhere(filter, "");
    const only = filter.labels?.requirements?.length === 1 ? filter.labels.requirements[0] : undefined;
    // Counts the kept tallies answer without visiting rows: everything, a namespace, one requirement.
    const count =
      where.size === 0 && filter.labels === undefined
        ? { sql: "SELECT vcluster_count AS count FROM meta WHERE id = 1", params: [] as unknown[] }
        : where.size === 1 && filter.namespace !== undefined && filter.labels === undefined
          ? {
              sql: "SELECT COALESCE((SELECT count FROM namespace_counts WHERE namespace = $1), 0) AS count",
              params: [filter.namespace],
            }
          : where.size === 0 && only !== undefined
            ? labelTallyCount(only)
            : undefined;
    const jsLabels = where.indexedLabels(filter.labels, "id");
    const driver = jsLabels === undefined ? await this.#driver(filter) : undefined;
    if (driver === undefined) {
      const page = new Where(where);
      // Within the namespace the cursor is a bound on the name alone: with both ends of the
      // range on the (namespace, name) index, the planner walks it in order whatever its statistics.
      if (after !== undefined && order === "name" && after.namespace === filter.namespace) {
        page.add("name > ?", after.name);
      } else if (after !== undefined) page.add(VCLUSTER_ORDERS[order].after("", "id"), ...cursorKey(order, after));
      return this.#list(
        "vclusters",
        where,
        page,
        VCLUSTER_ORDERS[order].orderBy("", "id"),
        limit,
        jsLabels,
        decode,
        count,
      );
    }
    // The requirement's pairs in page order (they carry the sort keys), each joined to its row.
    const page = new Where();
    page.add("l.key = ?", driver.key);
    page.add("l.value = ?", driver.values[0] ?? "");
    addVClusterConditions(page, filter, "v.");
    page.indexedLabels(filter.labels, "v.id", driver);
    if (after !== undefined) page.add(VCLUSTER_ORDERS[order].after("l.", "vcluster_id"), ...cursorKey(order, after));
    const rows = await this.q<EncodedRow[]>(
      `SELECT v.id, v.data FROM vcluster_labels AS l JOIN vclusters AS v ON v.id = l.vcluster_id${page.sql()}
       ORDER BY ${VCLUSTER_ORDERS[order].orderBy("l.", "vcluster_id")} LIMIT ${limit + 1}`,
      page.params,
    );
    const items = rows.slice(0, limit).map(decode);
    const hasMore = rows.length > limit;
    if (after === undefined && !hasMore) return { items, total: items.length, hasMore };
    const [counted] = await this.q<{ count: string }[]>(
      count?.sql ?? `SELECT count(*) AS count FROM vclusters${where.sql()}`,
      count?.params ?? where.params,
    );
    return { items, total: Number(counted?.count ?? 0), hasMore };
  }

  /**
   * The label requirement to drive a page by: the one matching the fewest vclusters, unless the
   * namespace holds fewer still. A lone candidate without a namespace needs no look-up.
   */
  async #driver(filter: VClusterFilter): Promise<LabelRequirement | undefined> {
    const candidates = drivingCandidates(filter);
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1 && filter.namespace === undefined) return candidates[0];
    const [row] = await this.q<{ labels: string[]; namespace: string }[]>(
      `
      SELECT ARRAY(
          SELECT COALESCE((SELECT count FROM label_counts WHERE key = wanted.key AND value = wanted.value), 0)
          FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS wanted (key, value, n) ORDER BY n) AS labels,
        COALESCE((SELECT count FROM namespace_counts WHERE namespace = $3), -1) AS namespace`,
      [candidates.map((r) => r.key), candidates.map((r) => r.values[0] ?? ""), filter.namespace ?? null],
    );
    const counts = (row?.labels ?? []).map(Number);
    let best = 0;
    for (let i = 1; i < candidates.length; i++) if ((counts[i] ?? 0) < (counts[best] ?? 0)) best = i;
    const inNamespace = Number(row?.namespace ?? -1);
    if (filter.namespace !== undefined && inNamespace < (counts[best] ?? 0)) return undefined;
    return candidates[best];
  }

  /** A page plus the exact count; both in SQL (using the indexes) unless a label predicate must run here. */
  async #list<T>(
    table: "vclusters" | "snapshots",
    where: Where,
    page: Where,
    orderBy: string,
    limit: number,
    jsLabels: LabelPredicate | undefined,
    decode: (row: EncodedRow) => T,
    count?: { sql: string; params: unknown[] },
  ): Promise<ListResult<T>> {
    if (jsLabels === undefined) {
      const rows = await this.q<EncodedRow[]>(
        `SELECT id, data FROM ${table}${page.sql()} ORDER BY ${orderBy} LIMIT ${limit + 1}`,
        page.params,
      );
      const items = rows.slice(0, limit).map(decode);
      const hasMore = rows.length > limit;
      let total = items.length;
      if (hasMore || page.size !== where.size) {
        const [counted] = await this.q<{ count: string }[]>(
          count?.sql ?? `SELECT count(*) AS count FROM ${table}${where.sql()}`,
          count?.params ?? where.params,
        );
        total = Number(counted?.count ?? 0);
      }
      return { items, total, hasMore };
    }
    const all = await this.q<(EncodedRow & { labels: Record<string, string>; after: boolean })[]>(
      `SELECT id, labels, data, ${page.size === where.size ? "true" : page.condition(where.size)} AS after
       FROM ${table}${where.sql()} ORDER BY ${orderBy}`,
      page.params,
    );
    const matching = all.filter((row) => jsLabels(row.labels));
    const rest = matching.filter((row) => row.after);
    return {
      items: rest.slice(0, limit).map(decode),
      total: matching.length,
      hasMore: rest.length > limit,
    };
  }

  async getSnapshot(id: string): Promise<Snapshot | undefined> {
    const [row] = await this.q<{ data: Uint8Array }[]>(`SELECT data FROM snapshots WHERE id = $1`, [id]);
    return row ? fromBinary(SnapshotSchema, row.data) : undefined;
  }

  async getSnapshotByName(namespace: string, name: string): Promise<Snapshot | undefined> {
    const [row] = await this.q<{ data: Uint8Array }[]>(
      `
      SELECT data FROM snapshots WHERE namespace = $1 AND name = $2`,
      [namespace, name],
    );
    return row ? fromBinary(SnapshotSchema, row.data) : undefined;
  }

  async putSnapshot(snapshot: Snapshot, content?: Uint8Array): Promise<void> {
    if (snapshot.id === "") throw new TypeError("snapshot.id is required");
    await this.#lock();
    const [holder] = await this.q<{ id: string }[]>(
      `
      SELECT id FROM snapshots WHERE namespace = $1 AND name = $2`,
      [snapshot.namespace, snapshot.name],
    );
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
      labels: JSON.stringify(snapshot.labels),
      data: toBinary(SnapshotSchema, snapshot),
    };
    await this.q(
      `
      INSERT INTO snapshots (id, namespace, name, vcluster_id, vcluster_name, create_time_ms, expire_time_ms, labels, data)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
      ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, name = excluded.name,
        vcluster_id = excluded.vcluster_id, vcluster_name = excluded.vcluster_name,
        create_time_ms = excluded.create_time_ms, expire_time_ms = excluded.expire_time_ms,
        labels = excluded.labels, data = excluded.data`,
      Object.values(row),
    );
    if (content !== undefined) {
      await this.q(
        `
        INSERT INTO snapshot_contents (snapshot_id, content) VALUES ($1, $2)
        ON CONFLICT (snapshot_id) DO UPDATE SET content = excluded.content`,
        [snapshot.id, content],
      );
    }
  }

  async getSnapshotContent(id: string): Promise<Uint8Array | undefined> {
    const [row] = await this.q<{ content: Uint8Array }[]>(
      `
      SELECT content FROM snapshot_contents WHERE snapshot_id = $1`,
      [id],
    );
    return row ? new Uint8Array(row.content) : undefined;
  }

  async deleteSnapshot(id: string): Promise<boolean> {
    await this.#lock();
    const result = await this.exec(`DELETE FROM snapshots WHERE id = $1`, [id]);
    return result > 0;
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
    return this.#list("snapshots", where, page, "create_time_ms DESC, id DESC", limit, jsLabels, (row) =>
      fromBinary(SnapshotSchema, row.data),
    );
  }

  async snapshotsExpiringBefore(time: Date): Promise<Snapshot[]> {
    const rows = await this.q<{ data: Uint8Array }[]>(
      `
      SELECT data FROM snapshots WHERE expire_time_ms IS NOT NULL AND expire_time_ms <= $1
      ORDER BY expire_time_ms, id`,
      [time.getTime()],
    );
    return rows.map((row) => fromBinary(SnapshotSchema, row.data));
  }

  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.q<{ fingerprint: string; response: Uint8Array; create_time_ms: string }[]>(
      `
      SELECT fingerprint, response, create_time_ms FROM idempotency WHERE key = $1`,
      [key],
    );
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
    await this.q(
      `
      INSERT INTO idempotency (key, fingerprint, response, create_time_ms)
      VALUES ($1, $2, $3, $4)
      ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, response = excluded.response,
        create_time_ms = excluded.create_time_ms`,
      [record.key, record.fingerprint, record.response, record.createTime.getTime()],
    );
  }

  async deleteIdempotencyBefore(time: Date): Promise<number> {
    await this.#lock();
    const result = await this.exec(`DELETE FROM idempotency WHERE create_time_ms < $1`, [time.getTime()]);
    return result;
  }

  async listHistory(
    kind: HistoryKind,
    vclusterId: string,
    afterSequence: number,
    limit: number,
  ): Promise<HistoryEntry[]> {
    assertPageLimit(limit);
    const rows = await this.q<{ sequence: string; time_ms: string; data: Uint8Array }[]>(
      `
      SELECT sequence, time_ms, data FROM history WHERE vcluster_id = $1 AND kind = $2 AND sequence > $3
      ORDER BY sequence DESC LIMIT $4`,
      [vclusterId, kind, afterSequence, limit],
    );
    return rows
      .reverse()
      .map((row) => ({ sequence: Number(row.sequence), timeMs: Number(row.time_ms), data: new Uint8Array(row.data) }));
  }

  async appendHistory(
    kind: HistoryKind,
    vclusterId: string,
    entries: readonly HistoryEntryInit[],
    options: HistoryAppend,
  ): Promise<number> {
    // The store's write lock orders every writer, so max + 1 never collides and follows commit order.
    await this.#lock();
    const count = entries.length;
    // One round trip for all of them (writers wait on the lock for each). The sub-statements
    // share one snapshot, so the trim never sees the new entries: the newest `keep` of
    // everything are inserted or spared, the rest deleted or never written.
    const [row] = await this.q<{ sequence: string }[]>(
      `
      WITH last AS (SELECT COALESCE(max(sequence), 0) AS n FROM history WHERE vcluster_id = $1 AND kind = $2),
        replaced AS (
          DELETE FROM history
          WHERE $7::int > 0 AND $6 AND vcluster_id = $1 AND kind = $2 AND sequence = (SELECT n FROM last)),
        trimmed AS (
          DELETE FROM history
          WHERE $7::int > 0 AND vcluster_id = $1 AND kind = $2 AND sequence <= (SELECT n FROM last) + $7::int - $5::int),
        added AS (
          INSERT INTO history (vcluster_id, kind, sequence, time_ms, data)
          SELECT $1, $2, last.n + e.position, e.time_ms, e.data
          FROM last, unnest($3::int8[], $4::bytea[]) WITH ORDINALITY AS e(time_ms, data, position)
          WHERE e.position > $7::int - $5::int)
      SELECT n + $7::int AS sequence FROM last`,
      [
        vclusterId,
        kind,
        entries.map((entry) => entry.timeMs),
        entries.map((entry) => entry.data),
        options.keep,
        options.replaceLast === true,
        count,
      ],
    );
    return Number(row?.sequence);
  }

  async getOperation(vclusterId: string): Promise<OperationRecord | undefined> {
    const [row] = await this.q<Row[]>(
      `SELECT *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms FROM operations WHERE vcluster_id = $1`,
      [vclusterId],
    );
    return row ? decodeOperation(row) : undefined;
  }

  async putOperation(
    vclusterId: string,
    operation: OperationRecord["operation"],
    lease: { owner: string; leaseMs: number } | { waiting: true },
  ): Promise<OperationRecord> {
    await this.#lock();
    const waiting = "waiting" in lease;
    const [row] = await this.q<Row[]>(
      `
      INSERT INTO operations (vcluster_id, operation, waiting, owner, lease_expires)
      VALUES ($1, $2::jsonb, $3, $4,
        CASE WHEN $5::boolean THEN '-infinity'::timestamptz
          ELSE clock_timestamp() + $6::float8 * interval '1 ms' END)
      ON CONFLICT (vcluster_id) DO UPDATE SET operation = excluded.operation, waiting = excluded.waiting,
        owner = excluded.owner, lease_expires = excluded.lease_expires,
        sequence = nextval(pg_get_serial_sequence('operations', 'sequence'))
      RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`,
      [
        vclusterId,
        JSON.stringify(operation),
        waiting,
        waiting ? "" : lease.owner,
        waiting,
        waiting ? 0 : lease.leaseMs,
      ],
    );
    return decodeOperation(row as Row);
  }

  async deleteOperation(vclusterId: string, operationId?: string): Promise<boolean> {
    await this.#lock();
    const result =
      operationId === undefined
        ? await this.exec(`DELETE FROM operations WHERE vcluster_id = $1`, [vclusterId])
        : await this.exec(`DELETE FROM operations WHERE vcluster_id = $1 AND operation->>'id' = $2`, [
            vclusterId,
            operationId,
          ]);
    return result > 0;
  }

  async claimOperations(request: ClaimRequest): Promise<OperationRecord[]> {
    await this.#lock();
    const lease = request.leaseMs;
    // Records another claimer holds right now are skipped, not waited for.
    const expired = await this.q<Row[]>(
      `
      UPDATE operations SET owner = $1, lease_expires = clock_timestamp() + $2::float8 * interval '1 ms'
      WHERE vcluster_id IN (
        SELECT vcluster_id FROM operations
        WHERE NOT waiting AND (owner = '' OR lease_expires <= clock_timestamp()
          OR ($3 AND owner <> $4))
        ORDER BY sequence LIMIT $5 FOR UPDATE SKIP LOCKED)
      RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`,
      [request.owner, lease, request.takeOverLive ?? false, request.owner, request.limit],
    );
    const claimed = expired.map(decodeOperation);
    const max = request.maxActiveCreates ?? 0;
    const room = request.limit - claimed.length;
    if (room > 0) {
      const { active } = await this.countActiveCreates();
      const free = max === 0 ? room : Math.min(room, max - active);
      if (free > 0) {
        const promoted = await this.q<Row[]>(
          `
          UPDATE operations SET waiting = false, owner = $1,
            lease_expires = clock_timestamp() + $2::float8 * interval '1 ms'
          WHERE vcluster_id IN (
            SELECT vcluster_id FROM operations WHERE waiting ORDER BY sequence LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING *, (extract(epoch FROM lease_expires) * 1000)::float8 AS lease_expires_ms`,
          [request.owner, lease, free],
        );
        claimed.push(...promoted.map(decodeOperation));
      }
    }
    return claimed.sort((a, b) => a.sequence - b.sequence);
  }

  async renewLeases(owner: string, vclusterIds: readonly string[], leaseMs: number): Promise<string[]> {
    if (vclusterIds.length === 0) return [];
    await this.#lock();
    const rows = await this.q<{ vcluster_id: string }[]>(
      `
      UPDATE operations SET lease_expires = clock_timestamp() + $1::float8 * interval '1 ms'
      WHERE owner = $2 AND vcluster_id = ANY($3::text[]) RETURNING vcluster_id`,
      [leaseMs, owner, vclusterIds as string[]],
    );
    return rows.map((row) => row.vcluster_id);
  }

  async countActiveCreates(): Promise<{ active: number; waiting: number }> {
    await this.#lock();
    const [row] = await this.q<{ active: string; waiting: string }[]>(
      `
      SELECT count(*) FILTER (WHERE NOT waiting) AS active, count(*) FILTER (WHERE waiting) AS waiting
      FROM operations WHERE operation->>'kind' = 'create'`,
      [],
    );
    return { active: Number(row?.active ?? 0), waiting: Number(row?.waiting ?? 0) };
  }

  async claimHousekeeping(intervalMs: number): Promise<boolean> {
    await this.#lock();
    const result = await this.exec(
      `
      UPDATE meta SET housekeeping_due = clock_timestamp() + $1::float8 * interval '1 ms'
      WHERE id = 1 AND housekeeping_due <= clock_timestamp()`,
      [intervalMs],
    );
    return result > 0;
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

/** The cursor condition and order of each listing order, for a table prefix and id column. */
const VCLUSTER_ORDERS: Record<
  VClusterOrder,
  { after: (t: string, id: string) => string; orderBy: (t: string, id: string) => string }
> = {
  name: {
    after: (t) => `(${t}namespace, ${t}name) > (?, ?)`,
    orderBy: (t) => `${t}namespace, ${t}name`,
  },
  create_time: {
    after: (t, id) => `(${t}create_time_ms, ${t}${id}) > (?, ?)`,
    orderBy: (t, id) => `${t}create_time_ms, ${t}${id}`,
  },
  "-create_time": {
    after: (t, id) => `(${t}create_time_ms, ${t}${id}) < (?, ?)`,
    orderBy: (t, id) => `${t}create_time_ms DESC, ${t}${id} DESC`,
  },
};

function cursorKey(order: VClusterOrder, after: VClusterCursor): unknown[] {
  return order === "name" ? [after.namespace, after.name] : [after.createTimeMs, after.id];
}

/** The filter's conditions on vclusters columns (named with prefix `t`), labels aside. */
function addVClusterConditions(where: Where, filter: VClusterFilter, t: string): void {
  if (filter.namespace !== undefined) where.add(`${t}namespace = ?`, filter.namespace);
  if (filter.name !== undefined) where.add(`${t}name = ?`, filter.name);
  if (filter.phases !== undefined && filter.phases.length > 0) where.add(`${t}phase = ANY(?::int[])`, filter.phases);
  if (filter.owner !== undefined) where.add(`${t}owner = ?`, filter.owner);
  if (filter.project !== undefined) where.add(`${t}project = ?`, filter.project);
  if (filter.visibleTo !== undefined) {
    where.add(`(${t}owner = ? OR ${t}project = ANY(?::text[]))`, filter.visibleTo.owner, filter.visibleTo.projects);
  }
}

function vclusterWhere(filter: VClusterFilter, t: string): Where {
  const where = new Where();
  addVClusterConditions(where, filter, t);
  return where;
}

/**
 * A lone requirement that names its key, counted from the tallies of the pairs it matches;
 * undefined for `!=`, `notin` and `!exists` (they match vclusters without the key too).
 */
function labelTallyCount(requirement: LabelRequirement): { sql: string; params: unknown[] } | undefined {
  const { key, operator, values } = requirement;
  if (operator === "=" || operator === "in") {
    return {
      sql: "SELECT COALESCE(SUM(count), 0) AS count FROM label_counts WHERE key = $1 AND value = ANY($2::text[])",
      params: [key, [...new Set(operator === "=" ? [values[0] ?? ""] : values)]],
    };
  }
  if (operator === "exists") {
    return { sql: "SELECT COALESCE(SUM(count), 0) AS count FROM label_counts WHERE key = $1", params: [key] };
  }
  return undefined;
}

function checkVersion(id: string, actual: number | undefined, expected: number | undefined): void {
  if (expected !== undefined && (actual ?? 0) !== expected) {
    throw new VersionConflictError(`vcluster ${id} is at version ${actual ?? 0}, not the expected ${expected}`);
  }
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

  /**
   * A vcluster label selector as lookups in the vcluster_labels btree: each requirement becomes
   * a set of ids (absent keys match `!=`, `notin` and `!exists`, as in Kubernetes). Returns the
   * predicate when it can only run in JavaScript (it carries no requirements).
   */
  indexedLabels(
    labels: LabelPredicate | undefined,
    idColumn: string,
    skip?: LabelRequirement,
  ): LabelPredicate | undefined {
    if (labels === undefined) return undefined;
    if (labels.requirements === undefined) return labels;
    for (const requirement of labels.requirements) {
      if (requirement === skip) continue;
      const { key, operator, values } = requirement;
      this.params.push(key);
      const keyParam = `$${this.params.length}`;
      const ids = (valueClause: string) =>
        `(SELECT vcluster_id FROM vcluster_labels WHERE key = ${keyParam}${valueClause})`;
      const anyValue = () => {
        this.params.push(operator === "=" || operator === "!=" ? [values[0] ?? ""] : values);
        return ` AND value = ANY($${this.params.length}::text[])`;
      };
      switch (operator) {
        case "=":
        case "in":
          this.clauses.push(`${idColumn} IN ${ids(anyValue())}`);
          break;
        case "!=":
        case "notin":
          this.clauses.push(`${idColumn} NOT IN ${ids(anyValue())}`);
          break;
        case "exists":
          this.clauses.push(`${idColumn} IN ${ids("")}`);
          break;
        case "!exists":
          this.clauses.push(`${idColumn} NOT IN ${ids("")}`);
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
