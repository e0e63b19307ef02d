import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Annotations, Phase, VClusterSchema } from "@open-vcluster/api";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresServer } from "../../test/postgres-server.js";
import { PostgresStore } from "./postgres.js";
import { migratePostgres, PG_SCHEMA_VERSION } from "./postgres-schema.js";
import { SqliteStore } from "./sqlite.js";
import { LEGACY_PENDING_OPERATION, migrate, SCHEMA_VERSION } from "./sqlite-schema.js";
import type { Store } from "./types.js";

/** The last PostgreSQL schema without the label index and the kept vcluster count. */
const SCHEMA_BEFORE_LABEL_INDEX = 2;
/** The last schema (both SQL stores) whose label pairs carry no sort keys and without tallies. */
const SCHEMA_BEFORE_TALLIES = 4;

const gold = Object.assign((labels: Record<string, string>) => labels.tier === "gold", {
  requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
});

/** Three vclusters in two namespaces, two of them gold, named so that name order is c, a, b. */
const TALLIED = [
  { id: "id-a", namespace: "ns-2", name: "a", tier: "gold", createTimeMs: 3 },
  { id: "id-b", namespace: "ns-2", name: "b", tier: "standard", createTimeMs: 1 },
  { id: "id-c", namespace: "ns-1", name: "c", tier: "gold", createTimeMs: 2 },
] as const;

function talliedVCluster(row: (typeof TALLIED)[number]) {
  return create(VClusterSchema, {
    id: row.id,
    name: row.name,
    namespace: row.namespace,
    labels: { tier: row.tier },
    createTime: timestampFromMs(row.createTimeMs),
  });
}

/** What schema 5 must answer for TALLIED: pages in order from the pairs, totals from tallies. */
async function expectTallied(store: Store): Promise<void> {
  const byName = await store.listVClusters({ labels: gold }, "name", undefined, 1);
  expect(byName.items.map((v) => v.name)).toEqual(["c"]);
  expect(byName.total).toBe(2);
  const newest = await store.listVClusters({ labels: gold }, "-create_time", undefined, 5);
  expect(newest.items.map((v) => v.name)).toEqual(["a", "c"]);
  expect((await store.listVClusters({ namespace: "ns-2" }, "name", undefined, 0)).total).toBe(2);
  await store.transaction((tx) => tx.deleteVCluster("id-c"));
  expect((await store.listVClusters({ labels: gold }, "name", undefined, 0)).total).toBe(1);
  expect((await store.listVClusters({ namespace: "ns-1" }, "name", undefined, 0)).total).toBe(0);
  expect((await store.listVClusters({}, "name", undefined, 0)).total).toBe(2);
}

function legacyVCluster() {
  return create(VClusterSchema, {
    id: "vc-1",
    name: "busy",
    namespace: "default",
    status: { phase: Phase.SCALING },
    annotations: {
      [Annotations.resourceVersion]: "1",
      [Annotations.operationId]: "op-1",
      [LEGACY_PENDING_OPERATION]: JSON.stringify({ kind: "scale", id: "op-1" }),
    },
  });
}

describe("schema migrations", () => {
  let dir = "";
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "migrations-"));
    server = await PostgresServer.start();
  }, 120_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  it("SQLite: moves the pending operation of schema 1 out of the annotations into an operation record", async () => {
    const path = join(dir, "v1.db");
    const db = new DatabaseSync(path);
    migrate(db, 1);
    db.prepare(
      `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
       VALUES ('vc-1', 'default', 'busy', 0, ?, '', '', '{}', ?)`,
    ).run(Phase.SCALING, toBinary(VClusterSchema, legacyVCluster()));
    db.close();

    const store = new SqliteStore(path);
    try {
      const vcluster = await store.getVClusterById("vc-1");
      expect(vcluster?.annotations).not.toHaveProperty(LEGACY_PENDING_OPERATION);
      expect(vcluster?.annotations[Annotations.operationId]).toBe("op-1");
      // Nobody holds it: the next server to start claims it and carries it on.
      expect(await store.getOperation("vc-1")).toMatchObject({ operation: { kind: "scale", id: "op-1" }, owner: "" });
    } finally {
      await store.close();
    }
    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it("SQLite: indexes the labels and counts the vclusters of schema 2", async () => {
    const path = join(dir, "v2.db");
    const db = new DatabaseSync(path);
    migrate(db, 2);
    const insert = db.prepare(
      `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
       VALUES (?, 'default', ?, 0, 0, '', '', ?, ?)`,
    );
    for (const [name, tier] of [
      ["a", "gold"],
      ["b", "standard"],
      ["c", "gold"],
    ] as const) {
      const labels = { tier, app: name };
      const vcluster = create(VClusterSchema, { id: `id-${name}`, name, namespace: "default", labels });
      insert.run(`id-${name}`, name, JSON.stringify(labels), toBinary(VClusterSchema, vcluster));
    }
    db.close();

    const store = new SqliteStore(path);
    try {
      const gold = Object.assign((labels: Record<string, string>) => labels.tier === "gold", {
        requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
      });
      const page = await store.listVClusters({ labels: gold }, "name", undefined, 1);
      expect(page.items.map((v) => v.name)).toEqual(["a"]);
      expect(page.total).toBe(2);
      expect((await store.listVClusters({}, "name", undefined, 1)).total).toBe(3);
      await store.transaction((tx) => tx.deleteVCluster("id-a"));
      expect((await store.listVClusters({ labels: gold }, "name", undefined, 1)).total).toBe(1);
      expect((await store.listVClusters({}, "name", undefined, 1)).total).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("SQLite: gives the label pairs of schema 4 their sort keys and tallies its labels and namespaces", async () => {
    const path = join(dir, "v4.db");
    const db = new DatabaseSync(path);
    migrate(db, SCHEMA_BEFORE_TALLIES);
    const insert = db.prepare(
      `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels_json, data)
       VALUES (?, ?, ?, ?, 0, '', '', ?, ?) RETURNING seq`,
    );
    const pair = db.prepare("INSERT INTO vcluster_labels (key, value, seq) VALUES ('tier', ?, ?)");
    for (const row of TALLIED) {
      const vcluster = talliedVCluster(row);
      const { seq } = insert.get(
        row.id,
        row.namespace,
        row.name,
        row.createTimeMs,
        JSON.stringify(vcluster.labels),
        toBinary(VClusterSchema, vcluster),
      ) as { seq: number };
      pair.run(row.tier, seq);
    }
    db.exec(`UPDATE meta SET vcluster_count = ${TALLIED.length}`);
    db.close();

    const store = new SqliteStore(path);
    try {
      await expectTallied(store);
    } finally {
      await store.close();
    }
    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it("PostgreSQL: gives the label pairs of schema 4 their sort keys and tallies its labels and namespaces", async () => {
    if (!server) throw new Error("PostgreSQL did not start");
    const url = server.createDatabase("migrate_tallies");
    const pool = new pg.Pool({ connectionString: url });
    try {
      expect(await migratePostgres(pool, SCHEMA_BEFORE_TALLIES)).toBe(0);
      for (const row of TALLIED) {
        const vcluster = talliedVCluster(row);
        await pool.query(
          `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels, resource_version, data)
           VALUES ($1, $2, $3, $4, 0, '', '', $5, 1, $6)`,
          [
            row.id,
            row.namespace,
            row.name,
            row.createTimeMs,
            JSON.stringify(vcluster.labels),
            Buffer.from(toBinary(VClusterSchema, vcluster)),
          ],
        );
        await pool.query("INSERT INTO vcluster_labels (key, value, vcluster_id) VALUES ('tier', $1, $2)", [
          row.tier,
          row.id,
        ]);
      }
      await pool.query(`UPDATE meta SET vcluster_count = ${TALLIED.length}, current_version = 1`);
      const store = new PostgresStore(url);
      try {
        await expectTallied(store);
      } finally {
        await store.close();
      }
      expect(await migratePostgres(pool)).toBe(PG_SCHEMA_VERSION);
    } finally {
      await pool.end();
    }
  });

  it("PostgreSQL: migrates an empty database and one at the previous schema, keeping its rows", async () => {
    if (!server) throw new Error("PostgreSQL did not start");
    const emptyUrl = server.createDatabase("migrate_empty");
    const empty = new PostgresStore(emptyUrl);
    expect(await empty.currentVersion()).toBe(0);
    await empty.close();

    const url = server.createDatabase("migrate_previous");
    const pool = new pg.Pool({ connectionString: url });
    try {
      // The last schema without the label index and the kept count, so the row below must be
      // carried into both by the migrations after it.
      expect(await migratePostgres(pool, SCHEMA_BEFORE_LABEL_INDEX)).toBe(0);
      await pool.query(
        `INSERT INTO vclusters (id, namespace, name, create_time_ms, phase, owner, project, labels, resource_version, data)
         VALUES ('vc-1', 'default', 'old', 0, 1, '', '', '{"tier":"gold"}', 1, $1)`,
        [
          Buffer.from(
            toBinary(
              VClusterSchema,
              create(VClusterSchema, { id: "vc-1", name: "old", namespace: "default", labels: { tier: "gold" } }),
            ),
          ),
        ],
      );
      await pool.query("UPDATE meta SET current_version = 1");
      const store = new PostgresStore(url);
      try {
        expect(await store.currentVersion()).toBe(1);
        const page = await store.listVClusters(
          {
            labels: Object.assign(() => true, {
              requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
            }),
          },
          "name",
          undefined,
          10,
        );
        expect(page.items.map((v) => v.name)).toEqual(["old"]);
        expect(page.total).toBe(1);
        // Limit 0 has more to come, so the totals are counted: from the migrated index and counter.
        const gold = Object.assign(() => true, {
          requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
        });
        expect((await store.listVClusters({ labels: gold }, "name", undefined, 0)).total).toBe(1);
        expect((await store.listVClusters({}, "name", undefined, 0)).total).toBe(1);
      } finally {
        await store.close();
      }
      const versions = await pool.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
      // Migrating again changes nothing.
      expect(await migratePostgres(pool)).toBe(PG_SCHEMA_VERSION);
    } finally {
      await pool.end();
    }
  });
});
