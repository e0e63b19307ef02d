import type { DatabaseSync } from "node:sqlite";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { VClusterSchema } from "@open-vcluster/api";

/** Where versions up to 1 kept the operation a vcluster was going through: a public annotation. */
export const LEGACY_PENDING_OPERATION = "vcluster.open-vcluster.io/pending-operation";

/**
 * Schema migrations, applied in order. PRAGMA user_version records how many have run, so a
 * database is only ever moved forward, each step in its own transaction. Append new steps;
 * never edit a released one.
 */
const MIGRATIONS: readonly (string | ((db: DatabaseSync) => void))[] = [
  `
  CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    current_version INTEGER NOT NULL,
    oldest_retained_version INTEGER NOT NULL
  );
  INSERT INTO meta (id, current_version, oldest_retained_version) VALUES (1, 0, 0);

  -- data is the VCluster protobuf; the other columns duplicate the fields lists filter and
  -- sort on, so that rows can be rejected without decoding them.
  CREATE TABLE vclusters (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    phase INTEGER NOT NULL,
    owner TEXT NOT NULL,
    project TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (namespace, name)
  );
  CREATE INDEX vclusters_by_create_time ON vclusters (create_time_ms, id);

  -- One row per resource version: the vcluster as written by it.
  CREATE TABLE events (
    resource_version INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    data BLOB NOT NULL
  );

  CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    vcluster_id TEXT NOT NULL,
    vcluster_name TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    expire_time_ms INTEGER,
    labels_json TEXT NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (namespace, name)
  );
  CREATE INDEX snapshots_newest_first ON snapshots (create_time_ms DESC, id DESC);
  CREATE INDEX snapshots_by_vcluster ON snapshots (vcluster_id);
  CREATE INDEX snapshots_by_expiry ON snapshots (expire_time_ms, id) WHERE expire_time_ms IS NOT NULL;

  -- Content lives apart from the snapshot rows so that listing never drags large blobs
  -- through the page cache; the foreign key removes it with its snapshot.
  CREATE TABLE snapshot_contents (
    snapshot_id TEXT PRIMARY KEY REFERENCES snapshots (id) ON DELETE CASCADE,
    content BLOB NOT NULL
  );

  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    response BLOB NOT NULL,
    create_time_ms INTEGER NOT NULL
  );
  CREATE INDEX idempotency_by_create_time ON idempotency (create_time_ms);
  `,
  // 2: operations become internal records with leases, out of the public annotations.
  (db) => {
    db.exec(`
      CREATE TABLE operations (
        vcluster_id TEXT PRIMARY KEY,
        operation_json TEXT NOT NULL,
        waiting INTEGER NOT NULL,
        owner TEXT NOT NULL,
        lease_expires_ms INTEGER NOT NULL,
        sequence INTEGER NOT NULL
      );
      ALTER TABLE meta ADD COLUMN housekeeping_due_ms INTEGER NOT NULL DEFAULT 0;
    `);
    const insert = db.prepare(
      `INSERT INTO operations (vcluster_id, operation_json, waiting, owner, lease_expires_ms, sequence)
       VALUES (?, ?, 0, '', 0, ?)`,
    );
    const update = db.prepare("UPDATE vclusters SET data = ? WHERE id = ?");
    let sequence = 0;
    for (const row of db.prepare("SELECT id, data FROM vclusters ORDER BY create_time_ms, id").all()) {
      const vcluster = fromBinary(VClusterSchema, row.data as Uint8Array);
      const raw = vcluster.annotations[LEGACY_PENDING_OPERATION];
      if (raw === undefined) continue;
      delete vcluster.annotations[LEGACY_PENDING_OPERATION];
      // The stored object changes without a new version: the annotation was never the API's.
      update.run(toBinary(VClusterSchema, vcluster), String(row.id));
      try {
        JSON.parse(raw);
      } catch {
        continue;
      }
      sequence += 1;
      insert.run(String(row.id), raw, sequence);
    }
  },
  // 3: lists stop scanning every row. Label requirements look up an index of (key, value)
  // pairs, and the unfiltered total is a counter kept in the same transactions as the rows.
  // The pairs point at an explicit integer key (an implicit rowid may change on VACUUM), so
  // vclusters is rebuilt with one.
  `
  CREATE TABLE vclusters_keyed (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    phase INTEGER NOT NULL,
    owner TEXT NOT NULL,
    project TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (namespace, name)
  );
  INSERT INTO vclusters_keyed (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
    SELECT id, namespace, name, create_time_ms, phase, owner, project, labels_json, data FROM vclusters
    ORDER BY create_time_ms, id;
  DROP TABLE vclusters;
  ALTER TABLE vclusters_keyed RENAME TO vclusters;
  CREATE INDEX vclusters_by_create_time ON vclusters (create_time_ms, id);

  CREATE TABLE vcluster_labels (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, value, seq)
  ) WITHOUT ROWID;
  INSERT INTO vcluster_labels (key, value, seq)
    SELECT labels.key, labels.value, vclusters.seq FROM vclusters, json_each(vclusters.labels_json) AS labels;
  ALTER TABLE meta ADD COLUMN vcluster_count INTEGER NOT NULL DEFAULT 0;
  UPDATE meta SET vcluster_count = (SELECT COUNT(*) FROM vclusters);
  `,
  // 4: each vcluster's activity timeline and usage samples, bounded per vcluster by the writer.
  `
  CREATE TABLE history (
    vcluster_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (vcluster_id, kind, sequence)
  ) WITHOUT ROWID;
  `,
  // 5: a selector page stops sorting its matches. Each label pair carries the vcluster's sort
  // keys, so one requirement's pairs are read in page order and the page stops at its last row;
  // lone requirements and namespaces are counted from tallies kept with the rows.
  `
  DROP TABLE vcluster_labels;
  CREATE TABLE vcluster_labels (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, value, namespace, name)
  ) WITHOUT ROWID;
  CREATE INDEX vcluster_labels_by_create_time ON vcluster_labels (key, value, create_time_ms, id);
  INSERT INTO vcluster_labels (key, value, namespace, name, create_time_ms, id, seq)
    SELECT labels.key, labels.value, vclusters.namespace, vclusters.name, vclusters.create_time_ms, vclusters.id,
      vclusters.seq
    FROM vclusters, json_each(vclusters.labels_json) AS labels;

  CREATE TABLE label_counts (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, value)
  ) WITHOUT ROWID;
  INSERT INTO label_counts (key, value, count) SELECT key, value, COUNT(*) FROM vcluster_labels GROUP BY key, value;
  CREATE TABLE namespace_counts (
    namespace TEXT PRIMARY KEY,
    count INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO namespace_counts (namespace, count) SELECT namespace, COUNT(*) FROM vclusters GROUP BY namespace;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Connection settings; they are per connection, so they run on every open. */
export function configureConnection(db: DatabaseSync, options: { inMemory: boolean }): void {
  // Wait for another process's write lock instead of failing at once.
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  if (!options.inMemory) {
    const row = db.prepare("PRAGMA journal_mode = WAL").get();
    if (String(row?.journal_mode).toLowerCase() !== "wal") {
      throw new Error(`could not enable WAL journal mode (got ${String(row?.journal_mode)})`);
    }
  }
  // NORMAL is FULL without the WAL sync at the end of each COMMIT, which would block the event
  // loop; the store makes that sync itself, off the loop, before it answers (WalSync). With it,
  // an acknowledged write survives a crash or power loss. Checkpoints still sync as under FULL.
  db.exec("PRAGMA synchronous = NORMAL");
  // A page cache of up to 64 MiB (the default is 2 MiB) keeps the hot rows a listing seeks by
  // key (e.g. those found through the label index) in memory instead of re-reading them.
  db.exec("PRAGMA cache_size = -65536");
}

/** Applies the migrations up to `target` (default: all); a lower target is for upgrade tests. */
export function migrate(db: DatabaseSync, target = SCHEMA_VERSION): void {
  for (;;) {
    // Read the version under the write lock: another process may be migrating the same file.
    db.exec("BEGIN IMMEDIATE");
    try {
      const current = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
      if (current > SCHEMA_VERSION) {
        throw new Error(
          `database schema version ${current} is newer than this server supports (${SCHEMA_VERSION}); upgrade the server`,
        );
      }
      if (current >= target) {
        db.exec("COMMIT");
        return;
      }
      const step = MIGRATIONS[current] ?? "";
      if (typeof step === "string") db.exec(step);
      else step(db);
      // PRAGMA takes no parameters; the value is an integer computed here.
      db.exec(`PRAGMA user_version = ${current + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}
