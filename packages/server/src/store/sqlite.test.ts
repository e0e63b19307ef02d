import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath, pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Annotations, SnapshotSchema, VClusterSchema } from "@open-vcluster/api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SqliteStore } from "./sqlite.js";
import { SCHEMA_VERSION } from "./sqlite-schema.js";

let dir = "";
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "store-sqlite-"));
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
});

const vcluster = (name: string) => create(VClusterSchema, { id: `id-${name}`, name, namespace: "default" });
const snapshot = (id: string) => create(SnapshotSchema, { id, name: id, namespace: "default", vclusterId: "v" });

function withRawDatabase<T>(path: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe("sqlite store file", () => {
  it("keeps data, history and versions across reopening", async () => {
    const path = join(dir, "nested", "state.db");
    const first = new SqliteStore(path);
    await first.transaction((tx) => tx.putVCluster(vcluster("a")));
    await first.transaction((tx) => tx.putVCluster(vcluster("b")));
    await first.transaction((tx) => tx.deleteVCluster("id-a"));
    await first.transaction((tx) => tx.putSnapshot(snapshot("s1"), new Uint8Array([5])));
    await first.close();

    const second = new SqliteStore(path);
    expect(await second.currentVersion()).toBe(3);
    expect((await second.getVCluster("default", "b"))?.annotations[Annotations.resourceVersion]).toBe("2");
    expect(await second.getVClusterById("id-a")).toBeUndefined();
    expect(await second.getSnapshotContent("s1")).toEqual(new Uint8Array([5]));
    expect((await second.eventsAfter(0)).map((e) => e.resourceVersion)).toEqual([1, 2, 3]);
    expect(
      (await second.transaction((tx) => tx.putVCluster(vcluster("c")))).annotations[Annotations.resourceVersion],
    ).toBe("4");
    await second.close();
  });

  it("applies a lowered history limit when reopened", async () => {
    const path = join(dir, "state.db");
    const first = new SqliteStore(path);
    for (const name of ["a", "b", "c", "d"]) await first.transaction((tx) => tx.putVCluster(vcluster(name)));
    await first.close();
    const second = new SqliteStore(path, { historyLimit: 1 });
    expect(await second.oldestRetainedVersion()).toBe(3);
    expect((await second.eventsAfter(3)).map((e) => e.resourceVersion)).toEqual([4]);
    await second.close();
    expect(withRawDatabase(path, (db) => db.prepare("SELECT COUNT(*) AS n FROM events").get()?.n)).toBe(1);
  });

  it("records its schema version, uses WAL, and refuses a newer schema", async () => {
    const path = join(dir, "state.db");
    await new SqliteStore(path).close();
    withRawDatabase(path, (db) => {
      expect(db.prepare("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
      expect(db.prepare("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    });
    expect(() => new SqliteStore(path)).toThrow(/newer than this server supports/);
  });

  it("commits concurrent transactions together, and one that fails leaves the others of its group", async () => {
    const path = join(dir, "group.db");
    const store = new SqliteStore(path);
    const seen: number[] = [];
    store.subscribe((events) => seen.push(...events.map((e) => e.resourceVersion)));
    const results = await Promise.allSettled(
      ["a", "b", "c", "d"].map((name) =>
        store.transaction(async (tx) => {
          await tx.putVCluster(vcluster(name));
          if (name === "b") throw new Error("b fails");
          // A read in the same group sees the group's earlier writes.
          return (await tx.listVClusters({}, "name", undefined, 10)).items.map((v) => v.name);
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(results[3]).toEqual({ status: "fulfilled", value: ["a", "c", "d"] });
    expect(seen).toEqual([1, 2, 3]);
    await store.close();
    const reopened = new SqliteStore(path);
    expect((await reopened.listVClusters({}, "name", undefined, 10)).items.map((v) => v.name)).toEqual(["a", "c", "d"]);
    await reopened.close();
  });

  it("copies the write-ahead log into the database off the writing connection", async () => {
    const path = join(dir, "checkpointed.db");
    const store = new SqliteStore(path);
    const initial = statSync(path).size;
    const padding = "x".repeat(4096);
    for (let i = 0; i < 200; i++) {
      await store.transaction((tx) =>
        tx.putVCluster(
          create(VClusterSchema, { id: `id-${i}`, name: `v${i}`, namespace: "default", spec: { helmValues: padding } }),
        ),
      );
    }
    // The writing connection makes no checkpoints of its own: only the worker's grow the file.
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(initial + 100 * 4096), { timeout: 60_000 });
    await store.close();
  });

  it("reads what a group's members left, after one of them failed with writes of its own", async () => {
    const store = new SqliteStore(join(dir, "known.db"));
    await store.transaction((tx) => tx.putVCluster(vcluster("old")));
    // Known to the store before the group: by id, by name, and absences.
    expect(await store.getVCluster("default", "old")).toBeDefined();
    expect(await store.getVCluster("default", "new")).toBeUndefined();
    expect(await store.getOperation("id-old")).toBeUndefined();
    const operation = { kind: "create", id: "op-1" };
    const results = await Promise.allSettled([
      store.transaction(async (tx) => {
        const old = await tx.getVClusterById("id-old");
        await tx.putVCluster({ ...(old as NonNullable<typeof old>), name: "renamed" });
        await tx.putOperation("id-old", operation, { owner: "me", leaseMs: 60_000 });
      }),
      store.transaction(async (tx) => {
        await tx.putVCluster(vcluster("new"));
        await tx.putOperation("id-new", operation, { waiting: true });
        await tx.renewLeases("me", ["id-old"], 120_000);
        await tx.deleteVCluster("id-old");
        expect(await tx.getVCluster("default", "renamed")).toBeUndefined();
        throw new Error("second fails");
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(await store.getVCluster("default", "old")).toBeUndefined();
    expect((await store.getVCluster("default", "renamed"))?.id).toBe("id-old");
    expect((await store.peekVClusterById("id-old"))?.name).toBe("renamed");
    expect(await store.getVCluster("default", "new")).toBeUndefined();
    expect(await store.getVClusterById("id-new")).toBeUndefined();
    expect((await store.getOperation("id-old"))?.owner).toBe("me");
    expect(await store.getOperation("id-new")).toBeUndefined();
    // The name the failed member took is free again.
    await store.transaction((tx) =>
      tx.putVCluster(create(VClusterSchema, { id: "id-x", name: "new", namespace: "default" })),
    );
    expect((await store.getVCluster("default", "new"))?.id).toBe("id-x");
    await store.close();
  });

  it.each([
    { writers: 1, what: "one writer" },
    { writers: 16, what: "16 concurrent writers sharing commits" },
  ])("keeps every acknowledged write when the writing process is killed mid-burst ($what)", async ({ writers }) => {
    const path = join(dir, "crash.db");
    const acknowledged = await runWriterUntilKilled(path, 40 * writers, writers);
    expect(acknowledged.length).toBeGreaterThanOrEqual(40 * writers);

    expect(withRawDatabase(path, (db) => db.prepare("PRAGMA integrity_check").get()?.integrity_check)).toBe("ok");
    const store = new SqliteStore(path);
    try {
      for (const i of acknowledged) {
        expect(await store.getVClusterById(`a-${i}`), `a-${i}`).toBeDefined();
        expect(await store.getVClusterById(`b-${i}`), `b-${i}`).toBeDefined();
      }
      // Each burst step wrote a pair in one transaction: a pair is all there or all gone.
      const all = (await store.listVClusters({}, "name", undefined, 100_000)).items;
      const names = new Set(all.map((v) => v.name));
      for (const v of all) expect(names.has(v.name.replace(/^./, (c) => (c === "a" ? "b" : "a")))).toBe(true);
      expect(await store.currentVersion()).toBe(all.length);
      const next = await store.transaction((tx) => tx.putVCluster(vcluster("after-crash")));
      expect(next.annotations[Annotations.resourceVersion]).toBe(String(all.length + 1));
    } finally {
      await store.close();
    }
  });
});

/**
 * The child runs this module's sibling sqlite.ts directly (Node strips the types). Its
 * imports name ".js" files, as compiled output does, so a resolve hook maps them to ".ts".
 */
const WRITER = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (error?.code !== "ERR_MODULE_NOT_FOUND" || !specifier.startsWith(".") || !specifier.endsWith(".js")) throw error;
      return next(specifier.slice(0, -3) + ".ts", context);
    }
  },
});
const { SqliteStore } = await import(process.env.STORE_MODULE);
const { create } = await import("@bufbuild/protobuf");
const { VClusterSchema } = await import("@open-vcluster/api");
const store = new SqliteStore(process.env.STORE_PATH);
const padding = "x".repeat(4096);
const writers = Number(process.env.WRITERS);
// Concurrent writers' transactions share commits (group commit); each prints what was acknowledged.
const write = async (writer) => {
  for (let i = 0; ; i++) {
    const key = writers === 1 ? String(i) : writer + "." + i;
    await store.transaction(async (tx) => {
      for (const side of ["a", "b"]) {
        const id = side + "-" + key;
        await tx.putVCluster(create(VClusterSchema, { id, name: id, namespace: "default", spec: { helmValues: padding } }));
      }
    });
    process.stdout.write(key + "\\n");
  }
};
await Promise.all(Array.from({ length: writers }, (_, writer) => write(writer)));
`;

/** Starts `writers` concurrent writers in one process, lets them acknowledge at least `count` transactions, then SIGKILLs it. */
function runWriterUntilKilled(path: string, count: number, writers: number): Promise<string[]> {
  const storeModule = pathToFileURL(fileURLToPath(new URL("./sqlite.ts", import.meta.url))).href;
  const child = spawn(process.execPath, ["--no-warnings", "--input-type=module", "--eval", WRITER], {
    // Bare imports in the script resolve from here, i.e. this package's dependencies.
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    env: { ...process.env, STORE_MODULE: storeModule, STORE_PATH: path, WRITERS: String(writers) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const acknowledged: string[] = [];
    let buffered = "";
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      acknowledged.push(...lines);
      if (!killed && acknowledged.length >= count) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL" && killed) resolve(acknowledged);
      else reject(new Error(`writer exited early (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
}
