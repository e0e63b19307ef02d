import type pg from "pg";

/**
 * Versioned migrations, applied in order at start. schema_migrations records which ran; an
 * advisory lock makes replicas starting together migrate one at a time. Append new steps;
 * never edit a released one.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: objects, events, snapshots, idempotency records.
  `
  CREATE TABLE meta (
    id integer PRIMARY KEY CHECK (id = 1),
    current_version bigint NOT NULL,
    oldest_retained_version bigint NOT NULL
  );
  INSERT INTO meta (id, current_version, oldest_retained_version) VALUES (1, 0, 0);

  -- Text keys sort in byte order (COLLATE "C"), as the other stores and page cursors do.
  CREATE TABLE vclusters (
    id text COLLATE "C" PRIMARY KEY,
    namespace text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    create_time_ms bigint NOT NULL,
    phase integer NOT NULL,
    owner text NOT NULL,
    project text NOT NULL,
    labels jsonb NOT NULL,
    resource_version bigint NOT NULL,
    data bytea NOT NULL,
    UNIQUE (namespace, name)
  );
  CREATE INDEX vclusters_by_create_time ON vclusters (create_time_ms, id);

  CREATE TABLE events (
    resource_version bigint PRIMARY KEY,
    type integer NOT NULL,
    data bytea NOT NULL
  );

  CREATE TABLE snapshots (
    id text COLLATE "C" PRIMARY KEY,
    namespace text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    vcluster_id text NOT NULL,
    vcluster_name text NOT NULL,
    create_time_ms bigint NOT NULL,
    expire_time_ms bigint,
    labels jsonb NOT NULL,
    data bytea NOT NULL,
    UNIQUE (namespace, name)
  );
  CREATE INDEX snapshots_newest_first ON snapshots (create_time_ms DESC, id DESC);
  CREATE INDEX snapshots_by_vcluster ON snapshots (vcluster_id);
  CREATE INDEX snapshots_by_expiry ON snapshots (expire_time_ms, id) WHERE expire_time_ms IS NOT NULL;

  CREATE TABLE snapshot_contents (
    snapshot_id text COLLATE "C" PRIMARY KEY REFERENCES snapshots (id) ON DELETE CASCADE,
    content bytea NOT NULL
  );

  CREATE TABLE idempotency (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    response bytea NOT NULL,
    create_time_ms bigint NOT NULL
  );
  CREATE INDEX idempotency_by_create_time ON idempotency (create_time_ms);
  `,
  // 2: leased operation records (internal, never in annotations), shared housekeeping turns,
  // and label selectors answered from an index.
  `
  CREATE TABLE operations (
    vcluster_id text COLLATE "C" PRIMARY KEY,
    operation jsonb NOT NULL,
    waiting boolean NOT NULL,
    owner text NOT NULL,
    lease_expires timestamptz NOT NULL,
    sequence bigserial NOT NULL
  );
  CREATE INDEX operations_by_sequence ON operations (sequence);
  ALTER TABLE meta ADD COLUMN housekeeping_due timestamptz NOT NULL DEFAULT '-infinity';
  CREATE INDEX vclusters_by_labels ON vclusters USING gin (labels);
  CREATE INDEX snapshots_by_labels ON snapshots USING gin (labels);
  `,
  // 3: lists stop visiting every matching row to count. Label pairs get a btree of their own
  // (a lone requirement is counted from it alone, and pages look ids up in it), and the
  // unfiltered total is a counter written with the version counter it sits beside.
  `
  CREATE TABLE vcluster_labels (
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    vcluster_id text COLLATE "C" NOT NULL REFERENCES vclusters (id) ON DELETE CASCADE,
    PRIMARY KEY (key, value, vcluster_id)
  );
  CREATE INDEX vcluster_labels_by_vcluster ON vcluster_labels (vcluster_id);
  INSERT INTO vcluster_labels (key, value, vcluster_id)
    SELECT labels.key, labels.value, vclusters.id FROM vclusters, jsonb_each_text(vclusters.labels) AS labels;
  ALTER TABLE meta ADD COLUMN vcluster_count bigint NOT NULL DEFAULT 0;
  UPDATE meta SET vcluster_count = (SELECT count(*) FROM vclusters);
  `,
  // 4: each vcluster's activity timeline and usage samples, bounded per vcluster by the writer.
  `
  CREATE TABLE history (
    vcluster_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    sequence bigint NOT NULL,
    time_ms bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (vcluster_id, kind, sequence)
  );
  `,
  // 5: a selector page stops sorting its matches. Each label pair carries the vcluster's sort
  // keys, so one requirement's pairs are read in page order and the page stops at its last row;
  // lone requirements and namespaces are counted from tallies kept with the rows (a count that
  // does not depend on the visibility map being current, nor on statistics). The jsonb index
  // on vclusters answers nothing any more (snapshots keep theirs) and only slowed every write.
  `
  DROP INDEX vclusters_by_labels;
  DROP TABLE vcluster_labels;
  CREATE TABLE vcluster_labels (
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    namespace text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    create_time_ms bigint NOT NULL,
    vcluster_id text COLLATE "C" NOT NULL REFERENCES vclusters (id) ON DELETE CASCADE,
    PRIMARY KEY (key, value, namespace, name)
  );
  CREATE INDEX vcluster_labels_by_create_time ON vcluster_labels (key, value, create_time_ms, vcluster_id);
  CREATE INDEX vcluster_labels_by_vcluster ON vcluster_labels (vcluster_id);
  INSERT INTO vcluster_labels (key, value, namespace, name, create_time_ms, vcluster_id)
    SELECT labels.key, labels.value, vclusters.namespace, vclusters.name, vclusters.create_time_ms, vclusters.id
    FROM vclusters, jsonb_each_text(vclusters.labels) AS labels;

  CREATE TABLE label_counts (
    key text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (key, value)
  );
  INSERT INTO label_counts (key, value, count) SELECT key, value, count(*) FROM vcluster_labels GROUP BY key, value;
  CREATE TABLE namespace_counts (
    namespace text COLLATE "C" PRIMARY KEY,
    count bigint NOT NULL
  );
  INSERT INTO namespace_counts (namespace, count) SELECT namespace, count(*) FROM vclusters GROUP BY namespace;
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

// Any constant works; it only has to be the same for every replica.
const MIGRATION_LOCK = 0x6f76_6331;

/** Brings the database to `target` (default: the newest schema); returns the version it had. */
export async function migratePostgres(pool: pg.Pool, target = PG_SCHEMA_VERSION): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const result = await client.query<{ version: number | null }>(
      "SELECT max(version) AS version FROM schema_migrations",
    );
    const current = result.rows[0]?.version ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${current} is newer than this server supports (${PG_SCHEMA_VERSION}); upgrade the server`,
      );
    }
    for (let version = current + 1; version <= target; version++) {
      await client.query(PG_MIGRATIONS[version - 1] ?? "");
      await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
    }
    await client.query("COMMIT");
    return current;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
