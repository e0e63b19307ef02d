import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, SnapshotStatus, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { parseLabelSelector } from "@open-vcluster/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PostgresServer } from "../../test/postgres-server.js";
import type { Store, StoredEvent, StoreOptions, StoreTx, VClusterFilter, VClusterOrder } from "./index.js";
import {
  compareVClusterKeys,
  HistoryExpiredError,
  NameConflictError,
  openStore,
  snapshotCursor,
  VersionConflictError,
  vclusterCursor,
} from "./index.js";

// One suite, run against every implementation: they must be interchangeable.

interface VClusterInit {
  id?: string;
  name: string;
  namespace?: string;
  phase?: Phase;
  owner?: string;
  project?: string;
  labels?: Record<string, string>;
  createTimeMs?: number;
}

function vcluster(init: VClusterInit): VCluster {
  return create(VClusterSchema, {
    id: init.id ?? `id-${init.namespace ?? "default"}-${init.name}`,
    name: init.name,
    namespace: init.namespace ?? "default",
    owner: init.owner ?? "alice",
    project: init.project ?? "",
    labels: init.labels ?? {},
    createTime: timestampFromMs(init.createTimeMs ?? 1_000),
    status: { phase: init.phase ?? Phase.RUNNING },
    spec: { replicas: 1, distro: "k8s" },
  });
}

interface SnapshotInit {
  id: string;
  name?: string;
  namespace?: string;
  vclusterId?: string;
  vclusterName?: string;
  createTimeMs?: number;
  expireTimeMs?: number;
  labels?: Record<string, string>;
}

function snapshot(init: SnapshotInit): Snapshot {
  return create(SnapshotSchema, {
    id: init.id,
    name: init.name ?? init.id,
    namespace: init.namespace ?? "default",
    vclusterId: init.vclusterId ?? "vc-1",
    vclusterName: init.vclusterName ?? "one",
    status: SnapshotStatus.READY,
    createTime: timestampFromMs(init.createTimeMs ?? 1_000),
    expireTime: init.expireTimeMs === undefined ? undefined : timestampFromMs(init.expireTimeMs),
    labels: init.labels ?? {},
  });
}

/** Deterministic PRNG (mulberry32), so the randomized test replays identically. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const versionOf = (v: VCluster | undefined) => v?.annotations[Annotations.resourceVersion];
const ids = (items: { id: string }[]) => items.map((item) => item.id);

type Factory = (options?: StoreOptions) => Store;

const WRITES = [
  "putVCluster",
  "deleteVCluster",
  "putSnapshot",
  "deleteSnapshot",
  "putIdempotency",
  "deleteIdempotencyBefore",
  "appendHistory",
] as const;

/** A store whose writes can also be called directly, each in a transaction of its own. */
type TestStore = Store & Pick<StoreTx, (typeof WRITES)[number]>;

function direct(store: Store): TestStore {
  return new Proxy(store, {
    get(target, key) {
      if ((WRITES as readonly (string | symbol)[]).includes(key)) {
        const method = key as (typeof WRITES)[number];
        return (...args: unknown[]) =>
          target.transaction((tx) => (tx[method] as (...a: unknown[]) => Promise<unknown>)(...args));
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as TestStore;
}

let tempDir = "";
let fileCounter = 0;
let postgresServer: PostgresServer | undefined;
beforeAll(async () => {
  tempDir = mkdtempSync(join(tmpdir(), "store-contract-"));
  postgresServer = await PostgresServer.start();
}, 120_000);
afterAll(async () => {
  rmSync(tempDir, { recursive: true, force: true });
  await postgresServer?.stop();
});

const implementations: [string, Factory][] = [
  ["memory", (options) => openStore("memory", options)],
  ["sqlite", (options) => openStore(`sqlite:${join(tempDir, `db-${++fileCounter}.sqlite`)}`, options)],
  [
    "postgres",
    (options) => {
      if (!postgresServer) throw new Error("PostgreSQL did not start");
      // A database of its own per store: every store starts empty and migrates from nothing.
      return openStore(postgresServer.createDatabase(`contract_${++fileCounter}`) as `postgres://${string}`, options);
    },
  ],
];

describe.each(implementations)("%s store", (_kind, openTestStore) => {
  let store: TestStore;
  const opened: Store[] = [];
  const open = (options?: StoreOptions) => {
    const s = openTestStore(options);
    opened.push(s);
    return direct(s);
  };
  beforeEach(async () => {
    store = open();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  describe("vclusters", () => {
    it("creates, reads, replaces and deletes", async () => {
      const put = await store.putVCluster(vcluster({ name: "one", labels: { env: "prod" } }));
      expect(versionOf(put)).toBe("1");
      expect(await store.getVCluster("default", "one")).toEqual(put);
      expect(await store.getVClusterById(put.id)).toEqual(put);
      expect(await store.getVCluster("other", "one")).toBeUndefined();

      const changed = vcluster({ name: "one", phase: Phase.SUSPENDED });
      const replaced = await store.putVCluster(changed);
      expect(versionOf(replaced)).toBe("2");
      expect(replaced.status?.phase).toBe(Phase.SUSPENDED);
      expect(replaced.labels).toEqual({});
      expect(await store.getVClusterById(put.id)).toEqual(replaced);

      const deleted = await store.deleteVCluster(put.id);
      expect(versionOf(deleted)).toBe("3");
      expect(deleted?.status?.phase).toBe(Phase.SUSPENDED);
      expect(await store.getVClusterById(put.id)).toBeUndefined();
      expect(await store.getVCluster("default", "one")).toBeUndefined();
      expect(await store.deleteVCluster(put.id)).toBeUndefined();
      expect(await store.currentVersion()).toBe(3);
    });

    it("keeps (namespace, name) unique and frees a name when its vcluster is renamed", async () => {
      await store.putVCluster(vcluster({ id: "a", name: "one" }));
      await expect(store.putVCluster(vcluster({ id: "b", name: "one" }))).rejects.toThrow(NameConflictError);
      expect(await store.currentVersion()).toBe(1);
      await store.putVCluster(vcluster({ id: "b", name: "one", namespace: "other" }));

      await store.putVCluster(vcluster({ id: "a", name: "renamed" }));
      expect(await store.getVCluster("default", "one")).toBeUndefined();
      await store.putVCluster(vcluster({ id: "c", name: "one" }));
      expect((await store.getVCluster("default", "one"))?.id).toBe("c");
      expect((await store.getVCluster("default", "renamed"))?.id).toBe("a");
    });

    it("refuses a vcluster without id", async () => {
      await expect(store.putVCluster(vcluster({ id: "", name: "x" }))).rejects.toThrow(TypeError);
      expect(await store.currentVersion()).toBe(0);
    });

    it("gives every write a strictly greater version, written into the annotations", async () => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        seen.push(Number(versionOf(await store.putVCluster(vcluster({ name: `vc-${i % 3}`, project: `p${i}` })))));
      }
      seen.push(Number(versionOf(await store.deleteVCluster("id-default-vc-0"))));
      seen.push(Number(versionOf(await store.putVCluster(vcluster({ name: "vc-0" })))));
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await store.currentVersion()).toBe(7);
      expect(versionOf(await store.getVCluster("default", "vc-2"))).toBe("3");
    });

    it("returns copies: callers cannot change what is stored", async () => {
      const input = vcluster({ name: "one", labels: { env: "prod" } });
      const put = await store.putVCluster(input);
      input.labels.env = "mutated-input";
      put.labels.env = "mutated-result";
      const got = await store.getVClusterById(put.id);
      if (got === undefined) throw new Error("missing");
      got.labels.env = "mutated-get";
      const listed = (await store.listVClusters({}, "name", undefined, 10)).items[0];
      if (listed !== undefined) listed.labels.env = "mutated-list";
      const [event] = await store.eventsAfter(0);
      if (event !== undefined) event.vcluster.labels.env = "mutated-event";

      expect((await store.getVClusterById(put.id))?.labels).toEqual({ env: "prod" });
      expect((await store.eventsAfter(0))[0]?.vcluster.labels).toEqual({ env: "prod" });
      expect(input.annotations[Annotations.resourceVersion]).toBeUndefined();
    });
    it("peeks without a copy: frozen, current after every write, never a rolled-back write", async () => {
      const put = await store.putVCluster(vcluster({ name: "one", labels: { env: "prod" } }));
      const peeked = await store.peekVCluster("default", "one");
      expect(peeked).toEqual(put);
      expect(await store.peekVClusterById(put.id)).toEqual(put);
      expect(await store.peekVCluster("other", "one")).toBeUndefined();
      expect(await store.peekVClusterById("missing")).toBeUndefined();
      // Frozen all the way down: no reader can change what the next one is handed.
      expect(() => {
        (peeked as VCluster).labels.env = "mutated";
      }).toThrow(TypeError);
      expect(() => {
        if (peeked?.status) (peeked.status as { phase: Phase }).phase = Phase.SUSPENDED;
      }).toThrow(TypeError);
      expect((await store.getVClusterById(put.id))?.labels).toEqual({ env: "prod" });

      const replaced = await store.putVCluster(vcluster({ name: "one", phase: Phase.SUSPENDED }));
      expect(await store.peekVClusterById(put.id)).toEqual(replaced);

      // A peek asked for while a transaction is open never sees that transaction's writes
      // if it rolls back; inside the transaction, a peek sees them.
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let wrote = () => {};
      const written = new Promise<void>((resolve) => (wrote = resolve));
      const failing = store.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "one", labels: { env: "rolled-back" } }));
        expect((await tx.peekVClusterById(put.id))?.labels).toEqual({ env: "rolled-back" });
        wrote();
        await gate;
        throw new Error("abort");
      });
      await written;
      const during = store.peekVClusterById(put.id);
      release();
      await expect(failing).rejects.toThrow("abort");
      expect(await during).toEqual(replaced);
      expect(await store.peekVClusterById(put.id)).toEqual(replaced);

      // A rename moves the name: the old one finds nothing, a newcomer can take it.
      const renamed = await store.putVCluster(vcluster({ id: put.id, name: "two" }));
      expect(await store.peekVCluster("default", "one")).toBeUndefined();
      expect(await store.peekVCluster("default", "two")).toEqual(renamed);
      const newcomer = await store.putVCluster(vcluster({ id: "newcomer", name: "one" }));
      expect(await store.peekVCluster("default", "one")).toEqual(newcomer);

      await store.deleteVCluster(put.id);
      expect(await store.peekVClusterById(put.id)).toBeUndefined();
      expect(await store.peekVCluster("default", "two")).toBeUndefined();
      expect(await store.peekVCluster("default", "one")).toEqual(newcomer);
    });
  });

  describe("events", () => {
    it("records ADDED, MODIFIED and DELETED, the last with the final object", async () => {
      await store.putVCluster(vcluster({ name: "one" }));
      await store.putVCluster(vcluster({ name: "one", phase: Phase.DELETING }));
      await store.deleteVCluster("id-default-one");
      const events = await store.eventsAfter(0);
      expect(events.map((e) => [e.resourceVersion, e.type])).toEqual([
        [1, WatchEventType.ADDED],
        [2, WatchEventType.MODIFIED],
        [3, WatchEventType.DELETED],
      ]);
      for (const event of events) expect(versionOf(event.vcluster)).toBe(String(event.resourceVersion));
      expect(events[2]?.vcluster.status?.phase).toBe(Phase.DELETING);
      expect(events[2]?.vcluster.name).toBe("one");
      expect((await store.eventsAfter(1, 1)).map((e) => e.resourceVersion)).toEqual([2]);
      expect(await store.eventsAfter(3)).toEqual([]);
      expect(await store.eventsAfter(99)).toEqual([]);
    });

    it("trims history beyond historyLimit and reports expired versions", async () => {
      const small = open({ historyLimit: 3 });
      for (let i = 0; i < 5; i++) await small.putVCluster(vcluster({ name: `vc-${i}` }));
      expect(await small.currentVersion()).toBe(5);
      expect(await small.oldestRetainedVersion()).toBe(2);
      expect((await small.eventsAfter(2)).map((e) => e.resourceVersion)).toEqual([3, 4, 5]);
      let caught: unknown;
      try {
        await small.eventsAfter(1);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(HistoryExpiredError);
      expect(caught).toMatchObject({ requestedVersion: 1, oldestRetainedVersion: 2 });
      await small.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "vc-9" }));
        await tx.deleteVCluster("id-default-vc-0");
      });
      expect(await small.oldestRetainedVersion()).toBe(4);
      expect((await small.eventsAfter(4)).map((e) => e.resourceVersion)).toEqual([5, 6, 7]);
    });

    it("publishes to subscribers after commit, once per transaction, in order", async () => {
      const batches: (readonly StoredEvent[])[] = [];
      store.subscribe((events) => batches.push(events));
      await store.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "a" }));
        await tx.putVCluster(vcluster({ name: "b" }));
        expect(batches).toHaveLength(0);
      });
      expect(batches.map((b) => b.map((e) => [e.resourceVersion, e.vcluster.name]))).toEqual([
        [
          [1, "a"],
          [2, "b"],
        ],
      ]);
      await store.putSnapshot(snapshot({ id: "s1" }));
      await store.putIdempotency({ key: "k", fingerprint: "f", response: new Uint8Array(), createTime: new Date(0) });
      expect(batches).toHaveLength(1);
    });

    it("publishes nothing for a rolled-back transaction", async () => {
      const batches: (readonly StoredEvent[])[] = [];
      store.subscribe((events) => batches.push(events));
      await expect(
        store.transaction(async (tx) => {
          await tx.putVCluster(vcluster({ name: "a" }));
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(batches).toEqual([]);
      expect(await store.eventsAfter(0)).toEqual([]);
    });

    it("isolates subscribers: unsubscribing, failing and mutating listeners do not affect others", async () => {
      const errors: unknown[] = [];
      const isolated = open({ onListenerError: (error) => errors.push(error) });
      const seen: string[] = [];
      const unsubscribe = isolated.subscribe(() => seen.push("removed"));
      isolated.subscribe((events) => {
        for (const event of events) event.vcluster.name = "mutated";
        throw new Error("listener failed");
      });
      isolated.subscribe((events) => seen.push(events[0]?.vcluster.name ?? ""));
      unsubscribe();
      const put = await isolated.putVCluster(vcluster({ name: "a" }));
      expect(versionOf(put)).toBe("1");
      expect(seen).toEqual(["a"]);
      expect(errors).toHaveLength(1);
      expect(await isolated.getVCluster("default", "a")).toBeDefined();
      expect((await isolated.eventsAfter(0))[0]?.vcluster.name).toBe("a");
    });
  });

  describe("transactions", () => {
    it("leaves nothing behind when fn throws", async () => {
      await store.putVCluster(vcluster({ name: "keep", labels: { v: "1" } }));
      await store.putSnapshot(snapshot({ id: "s-keep" }), new Uint8Array([1]));
      await store.putIdempotency({
        key: "k-keep",
        fingerprint: "f",
        response: new Uint8Array([1]),
        createTime: new Date(5),
      });
      const before = await store.getVCluster("default", "keep");

      await expect(
        store.transaction(async (tx) => {
          await tx.putVCluster(vcluster({ name: "keep", labels: { v: "2" } }));
          await tx.putVCluster(vcluster({ name: "new" }));
          await tx.deleteVCluster("id-default-keep");
          await tx.putSnapshot(snapshot({ id: "s-keep", name: "renamed" }), new Uint8Array([2]));
          await tx.putSnapshot(snapshot({ id: "s-new" }), new Uint8Array([3]));
          await tx.putIdempotency({
            key: "k-new",
            fingerprint: "f",
            response: new Uint8Array(),
            createTime: new Date(9),
          });
          expect(await tx.deleteIdempotencyBefore(new Date(100))).toBe(2);
          expect(await tx.getVCluster("default", "new")).toBeDefined();
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");

      expect(await store.getVCluster("default", "keep")).toEqual(before);
      expect(await store.getVCluster("default", "new")).toBeUndefined();
      expect((await store.getSnapshot("s-keep"))?.name).toBe("s-keep");
      expect(await store.getSnapshotByName("default", "renamed")).toBeUndefined();
      expect(await store.getSnapshotContent("s-keep")).toEqual(new Uint8Array([1]));
      expect(await store.getSnapshot("s-new")).toBeUndefined();
      expect((await store.getIdempotency("k-keep"))?.createTime).toEqual(new Date(5));
      expect(await store.getIdempotency("k-new")).toBeUndefined();
      expect(await store.currentVersion()).toBe(1);
      expect(versionOf(await store.putVCluster(vcluster({ name: "after" })))).toBe("2");
      expect((await store.eventsAfter(0)).map((e) => e.resourceVersion)).toEqual([1, 2]);
    });

    it("refuses a transaction started inside another (it would wait for itself)", async () => {
      const result = await store.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "outer" }));
        await expect(
          store.transaction(async (inner) => inner.putVCluster(vcluster({ name: "inner" }))),
        ).rejects.toThrow(/inside a transaction/);
        return "done";
      });
      expect(result).toBe("done");
      expect(await store.getVCluster("default", "inner")).toBeUndefined();
      expect(await store.getVCluster("default", "outer")).toBeDefined();
    });

    it("keeps concurrent transactions apart: a transaction that awaits sees only its own writes", async () => {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let written = () => {};
      const wrote = new Promise<void>((resolve) => {
        written = resolve;
      });
      const slow = store.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "slow" }));
        written();
        await gate;
        return tx.getVCluster("default", "slow");
      });
      if (store.traits.shared) {
        // Concurrent transactions: nobody else sees the uncommitted write.
        await wrote;
        expect(await store.transaction((tx) => tx.getVCluster("default", "slow"))).toBeUndefined();
        expect(await store.getVCluster("default", "slow")).toBeUndefined();
        release();
      } else {
        // One at a time: the next transaction runs after the first committed, and sees all of it.
        const next = store.transaction((tx) => tx.getVCluster("default", "slow"));
        release();
        expect((await next)?.name).toBe("slow");
      }
      expect((await slow)?.name).toBe("slow");
      expect((await store.getVCluster("default", "slow"))?.name).toBe("slow");
      expect(await store.currentVersion()).toBe(1);
    });

    it("compares and sets on the expected version: of two writers from one read, one wins", async () => {
      const created = await store.putVCluster(vcluster({ name: "cas" }), 0);
      await expect(store.putVCluster(vcluster({ name: "cas" }), 0)).rejects.toThrow(VersionConflictError);
      const read = Number(versionOf(created));
      const results = await Promise.allSettled([
        store.putVCluster(vcluster({ name: "cas", phase: Phase.SCALING }), read),
        store.putVCluster(vcluster({ name: "cas", phase: Phase.UPDATING }), read),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(VersionConflictError);
      await expect(store.deleteVCluster(created.id, read)).rejects.toThrow(VersionConflictError);
      expect(await store.currentVersion()).toBe(2);
      expect(await store.deleteVCluster(created.id, 2)).toBeDefined();
    });

    it("refuses use after close", async () => {
      const closing = open();
      await closing.close();
      await expect(closing.getVCluster("default", "a")).rejects.toThrow();
      await expect(closing.putVCluster(vcluster({ name: "a" }))).rejects.toThrow();
      await closing.close();
    });
  });

  describe("listing vclusters", () => {
    beforeEach(async () => {
      await store.transaction(async (tx) => {
        await tx.putVCluster(
          vcluster({
            name: "a",
            namespace: "ns1",
            owner: "alice",
            project: "red",
            labels: { env: "prod" },
            createTimeMs: 1,
          }),
        );
        await tx.putVCluster(
          vcluster({
            name: "b",
            namespace: "ns1",
            owner: "bob",
            project: "blue",
            phase: Phase.SUSPENDED,
            createTimeMs: 3,
          }),
        );
        await tx.putVCluster(
          vcluster({
            name: "a",
            namespace: "ns2",
            owner: "bob",
            project: "red",
            labels: { env: "dev" },
            createTimeMs: 2,
          }),
        );
        await tx.putVCluster(
          vcluster({ name: "c", namespace: "ns2", owner: "carol", phase: Phase.ERROR, createTimeMs: 2 }),
        );
      });
    });

    const names = async (filter: VClusterFilter, order: VClusterOrder = "name") => {
      const result = await store.listVClusters(filter, order, undefined, 100);
      expect(result.total).toBe(result.items.length);
      expect(result.hasMore).toBe(false);
      return result.items.map((v) => `${v.namespace}/${v.name}`);
    };

    it("peeks pages: the rows a list would give, frozen, the same objects until a write replaces one", async () => {
      const prod = Object.assign((labels: Record<string, string>) => labels.env === "prod", {
        requirements: [{ key: "env", operator: "=" as const, values: ["prod"] }],
      });
      const anyEnv = (labels: Record<string, string>) => labels.env !== undefined;
      const filters: VClusterFilter[] = [
        {},
        { namespace: "ns2" },
        { labels: prod },
        { labels: anyEnv },
        { phases: [Phase.RUNNING] },
      ];
      for (const filter of filters) {
        for (const order of ["name", "create_time"] as const) {
          for (const limit of [0, 1, 100]) {
            const listed = await store.listVClusters(filter, order, undefined, limit);
            const peeked = await store.peekVClusters(filter, order, undefined, limit);
            expect(peeked).toEqual(listed);
            const last = listed.items.at(-1);
            if (listed.hasMore && last !== undefined) {
              const cursor = vclusterCursor(last);
              expect(await store.peekVClusters(filter, order, cursor, 100)).toEqual(
                await store.listVClusters(filter, order, cursor, 100),
              );
            }
          }
        }
      }
      const first = (await store.peekVClusters({ namespace: "ns1" }, "name", undefined, 100)).items;
      const again = (await store.peekVClusters({ namespace: "ns1" }, "name", undefined, 100)).items;
      expect(again[0]).toBe(first[0]);
      expect(again[1]).toBe(first[1]);
      expect(() => {
        (first[0] as VCluster).labels.env = "mutated";
      }).toThrow(TypeError);
      const replaced = await store.putVCluster(vcluster({ name: "a", namespace: "ns1", labels: { env: "staging" } }));
      const after = (await store.peekVClusters({ namespace: "ns1" }, "name", undefined, 100)).items;
      expect(after[0]).toEqual(replaced);
      expect(after[1]).toBe(first[1]);
      // Inside a transaction a peeked page holds its own writes.
      const inside = await store.transaction(async (tx) => {
        await tx.putVCluster(vcluster({ name: "a", namespace: "ns1", labels: { env: "inside" } }));
        return (await tx.peekVClusters({ namespace: "ns1" }, "name", undefined, 100)).items[0]?.labels;
      });
      expect(inside).toEqual({ env: "inside" });
    });

    it("filters by every field", async () => {
      expect(await names({})).toEqual(["ns1/a", "ns1/b", "ns2/a", "ns2/c"]);
      expect(await names({ namespace: "ns2" })).toEqual(["ns2/a", "ns2/c"]);
      expect(await names({ name: "a" })).toEqual(["ns1/a", "ns2/a"]);
      expect(await names({ namespace: "ns1", name: "a" })).toEqual(["ns1/a"]);
      expect(await names({ phases: [Phase.SUSPENDED, Phase.ERROR] })).toEqual(["ns1/b", "ns2/c"]);
      expect(await names({ phases: [] })).toHaveLength(4);
      expect(await names({ owner: "bob" })).toEqual(["ns1/b", "ns2/a"]);
      expect(await names({ project: "red" })).toEqual(["ns1/a", "ns2/a"]);
      expect(await names({ visibleTo: { owner: "carol", projects: ["blue"] } })).toEqual(["ns1/b", "ns2/c"]);
      expect(await names({ visibleTo: { owner: "nobody", projects: [] } })).toEqual([]);
      expect(await names({ labels: (l) => l.env !== undefined })).toEqual(["ns1/a", "ns2/a"]);
      expect(await names({ labels: (l) => l.env === "dev", owner: "bob" })).toEqual(["ns2/a"]);
      expect(await names({ labels: () => false })).toEqual([]);
    });

    it("orders by name, create time and newest first, breaking ties by id", async () => {
      expect(await names({}, "create_time")).toEqual(["ns1/a", "ns2/a", "ns2/c", "ns1/b"]);
      expect(await names({}, "-create_time")).toEqual(["ns1/b", "ns2/c", "ns2/a", "ns1/a"]);
    });

    it("counts all matches while returning one page", async () => {
      const first = await store.listVClusters({ namespace: "ns1" }, "name", undefined, 1);
      expect(first).toMatchObject({ total: 2, hasMore: true });
      expect(first.items.map((v) => v.name)).toEqual(["a"]);
      const labelled = await store.listVClusters({ labels: (l) => l.env !== undefined }, "name", undefined, 1);
      expect(labelled).toMatchObject({ total: 2, hasMore: true });
      const last = await store.listVClusters({}, "name", vclusterCursor(vcluster({ name: "a", namespace: "ns2" })), 1);
      expect(last).toMatchObject({ total: 4, hasMore: false });
      expect(last.items.map((v) => v.name)).toEqual(["c"]);
      expect(await store.listVClusters({}, "name", undefined, 0)).toMatchObject({ items: [], total: 4, hasMore: true });
      await expect(store.listVClusters({}, "name", undefined, -1)).rejects.toThrow(RangeError);
    });
  });

  // A label filter is a bare predicate (run in JavaScript) or carries its requirements (SQL
  // stores then answer it from their label index, which must follow every change).
  describe.each<[VClusterOrder, "none" | "predicate" | "requirements"]>([
    ["name", "none"],
    ["create_time", "none"],
    ["-create_time", "none"],
    ["name", "predicate"],
    ["create_time", "predicate"],
    ["-create_time", "predicate"],
    ["name", "requirements"],
    ["create_time", "requirements"],
    ["-create_time", "requirements"],
  ])("keyset paging by %s (label filter: %s)", (order, labelFilter) => {
    it("never skips nor repeats items that exist throughout, while others come and go", async () => {
      const withLabels = labelFilter !== "none";
      const next = random(order.length * 7 + (withLabels ? 1 : 0));
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const web = (l: Record<string, string>) => l.tier === "web";
      const filter: VClusterFilter =
        labelFilter === "predicate"
          ? { labels: web }
          : labelFilter === "requirements"
            ? {
                labels: Object.assign(web, {
                  requirements: [{ key: "tier", operator: "=" as const, values: ["web"] }],
                }),
              }
            : {};
      const matches = (v: VCluster) => !withLabels || v.labels.tier === "web";
      const model = new Map<string, VCluster>();
      let serial = 0;
      const make = () => {
        const n = serial++;
        return vcluster({
          id: `id-${Math.floor(next() * 1e6)}-${n}`,
          name: `vc-${Math.floor(next() * 1e4)}-${n}`,
          namespace: pick(["alpha", "beta", "gamma"]),
          createTimeMs: 1_000 + Math.floor(next() * 15), // many ties
          labels: { tier: pick(["web", "db"]) },
        });
      };
      const stable = new Set<string>();
      const volatile = new Set<string>();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 48; i++) {
          const v = await tx.putVCluster(make());
          model.set(v.id, v);
          (next() < 0.7 ? stable : volatile).add(v.id);
        }
      });

      const seen: VCluster[] = [];
      let cursor: ReturnType<typeof vclusterCursor> | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(200);
        const limit = 1 + Math.floor(next() * 6);
        const page = await store.listVClusters(filter, order, cursor, limit);
        expect(page.total).toBe([...model.values()].filter(matches).length);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        if (page.hasMore) expect(page.items).toHaveLength(limit);
        seen.push(...page.items);
        const last = page.items.at(-1);
        if (!page.hasMore || last === undefined) break;
        cursor = vclusterCursor(last);

        // Churn between pages: inserts, deletes of volatile items, in-place updates of stable ones.
        for (let m = Math.floor(next() * 3); m > 0; m--) {
          const roll = next();
          if (roll < 0.45) {
            const v = await store.putVCluster(make());
            model.set(v.id, v);
            volatile.add(v.id);
          } else if (roll < 0.7 && volatile.size > 0) {
            const id = pick([...volatile]);
            volatile.delete(id);
            await store.deleteVCluster(id);
            model.delete(id);
          } else if (roll < 0.8 && volatile.size > 0) {
            // A volatile item changes its labels: it may start or stop matching.
            const current = await store.getVClusterById(pick([...volatile]));
            if (current === undefined) throw new Error("volatile item vanished");
            current.labels = { tier: current.labels.tier === "web" ? "db" : "web", touched: String(serial++) };
            model.set(current.id, await store.putVCluster(current));
          } else {
            const id = pick([...stable]);
            const current = await store.getVClusterById(id);
            if (current === undefined) throw new Error(`stable ${id} vanished`);
            current.annotations.touched = String(serial++);
            model.set(id, await store.putVCluster(current));
          }
        }
      }

      const seenIds = ids(seen);
      expect(new Set(seenIds).size).toBe(seenIds.length);
      for (const id of stable) {
        if (matches(model.get(id) as VCluster)) expect(seenIds).toContain(id);
      }
      for (const v of seen) expect(matches(v)).toBe(true);
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1], seen[i]] as [VCluster, VCluster];
        expect(compareVClusterKeys(order, vclusterCursor(a), vclusterCursor(b))).toBeLessThan(0);
      }
    });
  });

  it("counts a transaction's own writes in its lists", async () => {
    const gold = Object.assign((labels: Record<string, string>) => labels.tier === "gold", {
      requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
    });
    await store.putVCluster(vcluster({ name: "before", namespace: "ns", labels: { tier: "gold" } }));
    const totals = await store.transaction(async (tx) => {
      await tx.putVCluster(vcluster({ name: "inside", namespace: "ns", labels: { tier: "gold" } }));
      await tx.deleteVCluster("id-ns-before");
      await tx.putVCluster(vcluster({ name: "other", namespace: "elsewhere", labels: { tier: "gold" } }));
      const all = await tx.listVClusters({}, "name", undefined, 0);
      const inNs = await tx.listVClusters({ namespace: "ns" }, "name", undefined, 0);
      const golden = await tx.listVClusters({ labels: gold }, "name", undefined, 0);
      return [all.total, inNs.total, golden.total];
    });
    expect(totals).toEqual([2, 1, 2]);
    expect((await store.listVClusters({ labels: gold }, "name", undefined, 0)).total).toBe(2);
    expect((await store.listVClusters({ namespace: "ns" }, "name", undefined, 0)).total).toBe(1);
  });

  // SQL stores drive a selector page by one label pair's index rows and count lone
  // requirements and namespaces from kept tallies: both must follow every kind of change.
  describe("selector pages and counts", () => {
    const SELECTORS = [
      "tier=gold",
      "tier in (gold,silver)",
      "tier in (gold,gold)",
      "env",
      "!env",
      "env!=prod",
      "tier notin (gold)",
      "tier=gold,env=prod",
      "env=prod,tier=silver",
      "tier=gold,env!=dev",
      "rare=x",
      "tier=none",
    ];
    const FILTERS: VClusterFilter[] = [
      {},
      { namespace: "ns-a" },
      { owner: "bob" },
      { namespace: "ns-b", owner: "alice" },
    ];
    const ORDERS: VClusterOrder[] = ["name", "create_time", "-create_time"];

    it("answers every selector shape exactly and in order through renames, relabels, deletes and rollbacks", async () => {
      const next = random(20_261_201);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const model = new Map<string, VCluster>();
      let serial = 0;
      const labels = () => ({
        tier: pick(["gold", "silver", "bronze"]),
        ...(next() < 0.6 ? { env: pick(["prod", "dev"]) } : {}),
        ...(next() < 0.2 ? { rare: "x" } : {}),
      });
      const make = () => {
        const n = serial++;
        return vcluster({
          id: `m-${n}`,
          name: `vc-${n}`,
          namespace: pick(["ns-a", "ns-b", "ns-c"]),
          owner: pick(["alice", "bob"]),
          createTimeMs: 1_000 + Math.floor(next() * 20),
          labels: labels(),
        });
      };
      /** One random change to a stored vcluster: labels, namespace, name or create time. */
      const changed = (current: VCluster): VCluster => {
        const copy = clone(VClusterSchema, current);
        const roll = next();
        if (roll < 0.4) copy.labels = labels();
        else if (roll < 0.6) copy.namespace = pick(["ns-a", "ns-b", "ns-c"]);
        else if (roll < 0.8) copy.name = `vc-renamed-${serial++}`;
        else copy.createTime = timestampFromMs(1_000 + Math.floor(next() * 20));
        return copy;
      };
      const check = async () => {
        for (const text of SELECTORS) {
          const selector = parseLabelSelector(text);
          const predicate = Object.assign((l: Record<string, string>) => selector.matches(l), {
            requirements: selector.requirements,
          });
          for (const base of FILTERS) {
            const filter: VClusterFilter = { ...base, labels: predicate };
            const order = pick(ORDERS);
            const expected = [...model.values()]
              .filter(
                (v) =>
                  (base.namespace === undefined || v.namespace === base.namespace) &&
                  (base.owner === undefined || v.owner === base.owner) &&
                  selector.matches(v.labels),
              )
              .sort((a, b) => compareVClusterKeys(order, vclusterCursor(a), vclusterCursor(b)));
            const seen: string[] = [];
            let cursor: ReturnType<typeof vclusterCursor> | undefined;
            for (let pages = 0; ; pages++) {
              expect(pages).toBeLessThan(100);
              const page = await store.listVClusters(filter, order, cursor, 1 + Math.floor(next() * 4));
              expect(page.total, `${text} ${JSON.stringify(base)} ${order}`).toBe(expected.length);
              seen.push(...page.items.map((v) => v.id));
              const last = page.items.at(-1);
              if (!page.hasMore || last === undefined) break;
              cursor = vclusterCursor(last);
            }
            expect(seen, `${text} ${JSON.stringify(base)} ${order}`).toEqual(ids(expected));
            expect((await store.listVClusters(filter, order, undefined, 0)).total).toBe(expected.length);
          }
        }
        expect((await store.listVClusters({}, "name", undefined, 0)).total).toBe(model.size);
        for (const namespace of ["ns-a", "ns-b", "ns-c", "ns-none"]) {
          const expected = [...model.values()].filter((v) => v.namespace === namespace).length;
          expect((await store.listVClusters({ namespace }, "name", undefined, 0)).total).toBe(expected);
        }
      };

      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 12; i++) {
          const roll = next();
          const existing = [...model.keys()];
          if (roll < 0.45 || existing.length < 4) {
            const v = await store.putVCluster(make());
            model.set(v.id, v);
          } else if (roll < 0.6) {
            const id = pick(existing);
            await store.deleteVCluster(id);
            model.delete(id);
          } else {
            const current = model.get(pick(existing)) as VCluster;
            model.set(current.id, await store.putVCluster(changed(current)));
          }
        }
        // Several changes to one vcluster in one transaction, and one created and removed again.
        const id = pick([...model.keys()]);
        const written = await store.transaction(async (tx) => {
          let v = await tx.putVCluster(changed(model.get(id) as VCluster));
          v = await tx.putVCluster(changed(v));
          v = await tx.putVCluster(changed(v));
          const passing = await tx.putVCluster(make());
          await tx.deleteVCluster(passing.id);
          return v;
        });
        model.set(id, written);
        // A transaction that fails leaves the tallies and pairs as they were.
        await expect(
          store.transaction(async (tx) => {
            await tx.putVCluster(make());
            await tx.putVCluster(changed(model.get(pick([...model.keys()])) as VCluster));
            await tx.deleteVCluster(pick([...model.keys()]));
            throw new Error("abandoned");
          }),
        ).rejects.toThrow("abandoned");
        await check();
      }
    }, 120_000);
  });

  describe("snapshots", () => {
    it("creates, reads, replaces and deletes, keeping content unless replaced", async () => {
      const content = new Uint8Array([1, 2, 3]);
      await store.putSnapshot(snapshot({ id: "s1", name: "first", labels: { k: "v" } }), content);
      content[0] = 9;
      const got = await store.getSnapshot("s1");
      expect(got?.name).toBe("first");
      expect(got && equals(SnapshotSchema, got, snapshot({ id: "s1", name: "first", labels: { k: "v" } }))).toBe(true);
      expect((await store.getSnapshotByName("default", "first"))?.id).toBe("s1");
      expect(await store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));

      const returned = await store.getSnapshotContent("s1");
      if (returned) returned[0] = 7;
      if (got) got.name = "mutated";
      expect(await store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));
      expect((await store.getSnapshot("s1"))?.name).toBe("first");

      await store.putSnapshot(snapshot({ id: "s1", name: "first", expireTimeMs: 50 }));
      expect((await store.getSnapshot("s1"))?.expireTime).toBeDefined();
      expect(await store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));
      await store.putSnapshot(snapshot({ id: "s1", name: "first" }), new Uint8Array([4]));
      expect(await store.getSnapshotContent("s1")).toEqual(new Uint8Array([4]));

      await store.putSnapshot(snapshot({ id: "s2" }));
      expect(await store.getSnapshotContent("s2")).toBeUndefined();
      await expect(store.putSnapshot(snapshot({ id: "s3", name: "first" }))).rejects.toThrow(NameConflictError);

      expect(await store.deleteSnapshot("s1")).toBe(true);
      expect(await store.deleteSnapshot("s1")).toBe(false);
      expect(await store.getSnapshot("s1")).toBeUndefined();
      expect(await store.getSnapshotByName("default", "first")).toBeUndefined();
      expect(await store.getSnapshotContent("s1")).toBeUndefined();
      await store.putSnapshot(snapshot({ id: "s3", name: "first" }));
      expect(await store.getSnapshotContent("s3")).toBeUndefined();
    });

    it("filters and pages newest first", async () => {
      await store.transaction(async (tx) => {
        await tx.putSnapshot(
          snapshot({ id: "a", createTimeMs: 10, vclusterId: "v1", vclusterName: "one", labels: { k: "x" } }),
        );
        await tx.putSnapshot(snapshot({ id: "b", createTimeMs: 30, vclusterId: "v1", vclusterName: "one" }));
        await tx.putSnapshot(
          snapshot({ id: "c", createTimeMs: 20, vclusterId: "v2", vclusterName: "two", namespace: "ns" }),
        );
        await tx.putSnapshot(
          snapshot({ id: "d", createTimeMs: 30, vclusterId: "v3", vclusterName: "one", labels: { k: "y" } }),
        );
      });
      const all = async (filter: Parameters<Store["listSnapshots"]>[0]) =>
        ids((await store.listSnapshots(filter, undefined, 10)).items);
      expect(await all({})).toEqual(["d", "b", "c", "a"]);
      expect(await all({ namespace: "ns" })).toEqual(["c"]);
      expect(await all({ vclusterName: "one" })).toEqual(["d", "b", "a"]);
      expect(await all({ vclusterId: "v1" })).toEqual(["b", "a"]);
      expect(await all({ labels: (l) => l.k !== undefined })).toEqual(["d", "a"]);
      expect(await all({ visibleVClusterIds: new Set(["v2", "v3"]) })).toEqual(["d", "c"]);
      expect(await all({ visibleVClusterIds: new Set() })).toEqual([]);

      const first = await store.listSnapshots({}, undefined, 3);
      expect(first).toMatchObject({ total: 4, hasMore: true });
      const last = first.items.at(-1);
      if (last === undefined) throw new Error("empty page");
      await store.putSnapshot(snapshot({ id: "e", createTimeMs: 40 }));
      const second = await store.listSnapshots({}, snapshotCursor(last), 3);
      expect(ids(second.items)).toEqual(["a"]);
      expect(second).toMatchObject({ total: 5, hasMore: false });
      const labelled = await store.listSnapshots({ labels: (l) => l.k !== undefined }, undefined, 1);
      expect(labelled).toMatchObject({ total: 2, hasMore: true });
    });

    it("finds snapshots that expire at or before a time, soonest first", async () => {
      await store.putSnapshot(snapshot({ id: "late", expireTimeMs: 3_000 }));
      await store.putSnapshot(snapshot({ id: "soon", expireTimeMs: 1_000 }));
      await store.putSnapshot(snapshot({ id: "edge", expireTimeMs: 2_000 }));
      await store.putSnapshot(snapshot({ id: "forever" }));
      expect(ids(await store.snapshotsExpiringBefore(new Date(2_000)))).toEqual(["soon", "edge"]);
      expect(await store.snapshotsExpiringBefore(new Date(999))).toEqual([]);
      expect(ids(await store.snapshotsExpiringBefore(new Date(10_000)))).toEqual(["soon", "edge", "late"]);
    });
  });

  describe("operation records", () => {
    const op = (id: string, kind = "update") => ({ kind, id });

    it("keeps the operation apart from the vcluster, leased to one owner, removed with the vcluster", async () => {
      const v = await store.putVCluster(vcluster({ name: "one" }));
      await store.transaction((tx) => tx.putOperation(v.id, op("op-1"), { owner: "a", leaseMs: 60_000 }));
      expect(await store.getOperation(v.id)).toMatchObject({ operation: { id: "op-1" }, owner: "a", waiting: false });
      expect((await store.getVClusterById(v.id))?.annotations).not.toHaveProperty(
        "vcluster.open-vcluster.io/pending-operation",
      );
      // A live lease is not taken over by another claimer.
      expect(await store.transaction((tx) => tx.claimOperations({ owner: "b", leaseMs: 1000, limit: 10 }))).toEqual([]);
      expect(await store.transaction((tx) => tx.renewLeases("b", [v.id], 1000))).toEqual([]);
      expect(await store.transaction((tx) => tx.renewLeases("a", [v.id], 1000))).toEqual([v.id]);
      expect(await store.transaction((tx) => tx.deleteOperation(v.id, "op-other"))).toBe(false);
      await store.deleteVCluster(v.id);
      expect(await store.getOperation(v.id)).toBeUndefined();
    });

    it("lets exactly one claimer take an expired lease", async () => {
      const v = await store.putVCluster(vcluster({ name: "one" }));
      await store.transaction((tx) => tx.putOperation(v.id, op("op-1"), { owner: "dead", leaseMs: 0 }));
      const claims = await Promise.all(
        ["b", "c", "d"].map((owner) =>
          store.transaction((tx) => tx.claimOperations({ owner, leaseMs: 60_000, limit: 10 })),
        ),
      );
      expect(claims.flat().map((r) => r.operation.id)).toEqual(["op-1"]);
      const winner = claims.findIndex((c) => c.length === 1);
      expect((await store.getOperation(v.id))?.owner).toBe(["b", "c", "d"][winner]);
    });

    it("promotes waiting creates first come, first served, into free slots only", async () => {
      const ids: string[] = [];
      for (const name of ["running", "w1", "w2", "w3"]) ids.push((await store.putVCluster(vcluster({ name }))).id);
      await store.transaction(async (tx) => {
        await tx.putOperation(ids[0] as string, op("c0", "create"), { owner: "a", leaseMs: 60_000 });
        for (let i = 1; i < 4; i++) await tx.putOperation(ids[i] as string, op(`c${i}`, "create"), { waiting: true });
      });
      expect(await store.transaction((tx) => tx.countActiveCreates())).toEqual({ active: 1, waiting: 3 });
      const claim = () =>
        store.transaction((tx) => tx.claimOperations({ owner: "b", leaseMs: 60_000, limit: 10, maxActiveCreates: 2 }));
      expect((await claim()).map((r) => r.operation.id)).toEqual(["c1"]);
      expect(await claim()).toEqual([]);
      await store.transaction((tx) => tx.deleteOperation(ids[0] as string, "c0"));
      expect((await claim()).map((r) => r.operation.id)).toEqual(["c2"]);
      expect(await store.transaction((tx) => tx.countActiveCreates())).toEqual({ active: 2, waiting: 1 });
    });

    it("hands housekeeping to one caller per interval", async () => {
      const due = () => store.transaction((tx) => tx.claimHousekeeping(60_000));
      const turns = await Promise.all([due(), due(), due()]);
      expect(turns.filter(Boolean)).toHaveLength(1);
      expect(await due()).toBe(false);
    });
  });

  describe("idempotency records", () => {
    it("stores, replaces and expires records", async () => {
      const response = new Uint8Array([1, 2]);
      await store.putIdempotency({ key: "a", fingerprint: "f1", response, createTime: new Date(1_000) });
      response[0] = 9;
      expect(await store.getIdempotency("a")).toEqual({
        key: "a",
        fingerprint: "f1",
        response: new Uint8Array([1, 2]),
        createTime: new Date(1_000),
      });
      await store.putIdempotency({
        key: "a",
        fingerprint: "f2",
        response: new Uint8Array([3]),
        createTime: new Date(3_000),
      });
      expect((await store.getIdempotency("a"))?.fingerprint).toBe("f2");
      await store.putIdempotency({
        key: "b",
        fingerprint: "f",
        response: new Uint8Array(),
        createTime: new Date(2_000),
      });
      expect(await store.getIdempotency("missing")).toBeUndefined();

      expect(await store.deleteIdempotencyBefore(new Date(2_000))).toBe(0);
      expect(await store.deleteIdempotencyBefore(new Date(2_001))).toBe(1);
      expect(await store.getIdempotency("b")).toBeUndefined();
      expect(await store.getIdempotency("a")).toBeDefined();
    });
  });

  describe("vcluster histories", () => {
    const entry = (timeMs: number, byte: number) => ({ timeMs, data: new Uint8Array([byte]) });
    const bytes = (entries: { data: Uint8Array }[]) => entries.map((e) => e.data[0]);

    it("appends in order, keeps the newest, pages by sequence and replaces the newest on request", async () => {
      await store.putVCluster(vcluster({ id: "vc-1", name: "one" }));
      for (let i = 1; i <= 5; i++) {
        expect(await store.appendHistory("event", "vc-1", [entry(i * 1_000, i)], { keep: 3 })).toBe(i);
      }
      const kept = await store.listHistory("event", "vc-1", 0, 100);
      expect(kept.map((e) => e.sequence)).toEqual([3, 4, 5]);
      expect(bytes(kept)).toEqual([3, 4, 5]);
      expect(kept.map((e) => e.timeMs)).toEqual([3_000, 4_000, 5_000]);
      expect(bytes(await store.listHistory("event", "vc-1", 3, 100))).toEqual([4, 5]);
      expect(bytes(await store.listHistory("event", "vc-1", 0, 1))).toEqual([5]);
      expect(await store.listHistory("event", "vc-1", 5, 100)).toEqual([]);
      // Kinds and vclusters are separate histories.
      expect(await store.listHistory("usage", "vc-1", 0, 100)).toEqual([]);
      expect(await store.appendHistory("usage", "vc-1", [entry(1, 7)], { keep: 3 })).toBe(1);
      expect(await store.appendHistory("usage", "vc-1", [entry(2, 8)], { keep: 3, replaceLast: true })).toBe(2);
      const usage = await store.listHistory("usage", "vc-1", 0, 100);
      expect(usage.map((e) => [e.sequence, e.timeMs, e.data[0]])).toEqual([[2, 2, 8]]);
    });

    it("appends several entries in one write, keeping only the newest of all", async () => {
      await store.putVCluster(vcluster({ id: "vc-1", name: "one" }));
      expect(await store.appendHistory("event", "vc-1", [], { keep: 3 })).toBe(0);
      expect(await store.appendHistory("event", "vc-1", [entry(1, 1), entry(2, 2)], { keep: 3 })).toBe(2);
      // Two of the old and three of the new would be five: the newest three stay.
      expect(await store.appendHistory("event", "vc-1", [entry(3, 3), entry(4, 4), entry(5, 5)], { keep: 3 })).toBe(5);
      let kept = await store.listHistory("event", "vc-1", 0, 100);
      expect(kept.map((e) => [e.sequence, e.timeMs, e.data[0]])).toEqual([
        [3, 3, 3],
        [4, 4, 4],
        [5, 5, 5],
      ]);
      // More new entries than are kept: only the newest of them are written.
      expect(
        await store.appendHistory(
          "event",
          "vc-1",
          [6, 7, 8, 9].map((i) => entry(i, i)),
          { keep: 2 },
        ),
      ).toBe(9);
      kept = await store.listHistory("event", "vc-1", 0, 100);
      expect(kept.map((e) => e.sequence)).toEqual([8, 9]);
      expect(bytes(kept)).toEqual([8, 9]);
      // An empty append changes nothing, even asked to replace.
      expect(await store.appendHistory("event", "vc-1", [], { keep: 1, replaceLast: true })).toBe(9);
      expect(bytes(await store.listHistory("event", "vc-1", 0, 100))).toEqual([8, 9]);
      // Replacing the newest with several: the first new one takes its place, after it in sequence.
      expect(
        await store.appendHistory("event", "vc-1", [entry(10, 10), entry(11, 11)], { keep: 5, replaceLast: true }),
      ).toBe(11);
      kept = await store.listHistory("event", "vc-1", 0, 100);
      expect(kept.map((e) => [e.sequence, e.data[0]])).toEqual([
        [8, 8],
        [10, 10],
        [11, 11],
      ]);
      // More rows than one statement writes at a time, kept in order.
      const many = Array.from({ length: 150 }, (_, i) => entry(100 + i, i));
      expect(await store.appendHistory("usage", "vc-1", many, { keep: 200 })).toBe(150);
      const usage = await store.listHistory("usage", "vc-1", 0, 200);
      expect(usage.map((e) => e.sequence)).toEqual(many.map((_, i) => i + 1));
      expect(bytes(usage)).toEqual(many.map((_, i) => i));
      // Nothing kept at all: the sequence still moves on.
      expect(await store.appendHistory("usage", "vc-1", [entry(1, 1)], { keep: 0 })).toBe(151);
      expect(await store.listHistory("usage", "vc-1", 0, 200)).toEqual([]);
      // An empty history starts over.
      expect(await store.appendHistory("usage", "vc-1", [entry(2, 2)], { keep: 1 })).toBe(1);
    });

    it("writes nothing when the transaction fails, and forgets a deleted vcluster's histories", async () => {
      await store.putVCluster(vcluster({ id: "vc-1", name: "one" }));
      await store.appendHistory("event", "vc-1", [entry(1, 1)], { keep: 10 });
      await expect(
        store.transaction(async (tx) => {
          await tx.appendHistory("event", "vc-1", [entry(2, 2)], { keep: 10 });
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(bytes(await store.listHistory("event", "vc-1", 0, 100))).toEqual([1]);
      // The failed append took no sequence.
      expect(await store.appendHistory("event", "vc-1", [entry(3, 3)], { keep: 10 })).toBe(2);
      await store.deleteVCluster("vc-1");
      expect(await store.listHistory("event", "vc-1", 0, 100)).toEqual([]);
      // A vcluster of the same id starts a new history.
      await store.putVCluster(vcluster({ id: "vc-1", name: "one" }));
      expect(await store.appendHistory("event", "vc-1", [entry(4, 4)], { keep: 10 })).toBe(1);
    });
  });
});
