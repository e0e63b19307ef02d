import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import { Annotations, Phase, SnapshotSchema, SnapshotStatus, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Store, StoredEvent, StoreOptions, VClusterFilter, VClusterOrder } from "./index.js";
import {
  compareVClusterKeys,
  HistoryExpiredError,
  NameConflictError,
  openStore,
  snapshotCursor,
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

let tempDir = "";
let fileCounter = 0;
beforeAll(() => {
  tempDir = mkdtempSync(join(tmpdir(), "store-contract-"));
});
afterAll(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

const implementations: [string, Factory][] = [
  ["memory", (options) => openStore("memory", options)],
  ["sqlite", (options) => openStore(`sqlite:${join(tempDir, `db-${++fileCounter}.sqlite`)}`, options)],
];

describe.each(implementations)("%s store", (_kind, openTestStore) => {
  let store: Store;
  const opened: Store[] = [];
  const open = (options?: StoreOptions) => {
    const s = openTestStore(options);
    opened.push(s);
    return s;
  };
  beforeEach(() => {
    store = open();
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });

  describe("vclusters", () => {
    it("creates, reads, replaces and deletes", () => {
      const put = store.putVCluster(vcluster({ name: "one", labels: { env: "prod" } }));
      expect(versionOf(put)).toBe("1");
      expect(store.getVCluster("default", "one")).toEqual(put);
      expect(store.getVClusterById(put.id)).toEqual(put);
      expect(store.getVCluster("other", "one")).toBeUndefined();

      const changed = vcluster({ name: "one", phase: Phase.SUSPENDED });
      const replaced = store.putVCluster(changed);
      expect(versionOf(replaced)).toBe("2");
      expect(replaced.status?.phase).toBe(Phase.SUSPENDED);
      expect(replaced.labels).toEqual({});
      expect(store.getVClusterById(put.id)).toEqual(replaced);

      const deleted = store.deleteVCluster(put.id);
      expect(versionOf(deleted)).toBe("3");
      expect(deleted?.status?.phase).toBe(Phase.SUSPENDED);
      expect(store.getVClusterById(put.id)).toBeUndefined();
      expect(store.getVCluster("default", "one")).toBeUndefined();
      expect(store.deleteVCluster(put.id)).toBeUndefined();
      expect(store.currentVersion()).toBe(3);
    });

    it("keeps (namespace, name) unique and frees a name when its vcluster is renamed", () => {
      store.putVCluster(vcluster({ id: "a", name: "one" }));
      expect(() => store.putVCluster(vcluster({ id: "b", name: "one" }))).toThrow(NameConflictError);
      expect(store.currentVersion()).toBe(1);
      store.putVCluster(vcluster({ id: "b", name: "one", namespace: "other" }));

      store.putVCluster(vcluster({ id: "a", name: "renamed" }));
      expect(store.getVCluster("default", "one")).toBeUndefined();
      store.putVCluster(vcluster({ id: "c", name: "one" }));
      expect(store.getVCluster("default", "one")?.id).toBe("c");
      expect(store.getVCluster("default", "renamed")?.id).toBe("a");
    });

    it("refuses a vcluster without id", () => {
      expect(() => store.putVCluster(vcluster({ id: "", name: "x" }))).toThrow(TypeError);
      expect(store.currentVersion()).toBe(0);
    });

    it("gives every write a strictly greater version, written into the annotations", () => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        seen.push(Number(versionOf(store.putVCluster(vcluster({ name: `vc-${i % 3}`, project: `p${i}` })))));
      }
      seen.push(Number(versionOf(store.deleteVCluster("id-default-vc-0"))));
      seen.push(Number(versionOf(store.putVCluster(vcluster({ name: "vc-0" })))));
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(store.currentVersion()).toBe(7);
      expect(versionOf(store.getVCluster("default", "vc-2"))).toBe("3");
    });

    it("returns copies: callers cannot change what is stored", () => {
      const input = vcluster({ name: "one", labels: { env: "prod" } });
      const put = store.putVCluster(input);
      input.labels.env = "mutated-input";
      put.labels.env = "mutated-result";
      const got = store.getVClusterById(put.id);
      if (got === undefined) throw new Error("missing");
      got.labels.env = "mutated-get";
      const listed = store.listVClusters({}, "name", undefined, 10).items[0];
      if (listed !== undefined) listed.labels.env = "mutated-list";
      const [event] = store.eventsAfter(0);
      if (event !== undefined) event.vcluster.labels.env = "mutated-event";

      expect(store.getVClusterById(put.id)?.labels).toEqual({ env: "prod" });
      expect(store.eventsAfter(0)[0]?.vcluster.labels).toEqual({ env: "prod" });
      expect(input.annotations[Annotations.resourceVersion]).toBeUndefined();
    });
  });

  describe("events", () => {
    it("records ADDED, MODIFIED and DELETED, the last with the final object", () => {
      store.putVCluster(vcluster({ name: "one" }));
      store.putVCluster(vcluster({ name: "one", phase: Phase.DELETING }));
      store.deleteVCluster("id-default-one");
      const events = store.eventsAfter(0);
      expect(events.map((e) => [e.resourceVersion, e.type])).toEqual([
        [1, WatchEventType.ADDED],
        [2, WatchEventType.MODIFIED],
        [3, WatchEventType.DELETED],
      ]);
      for (const event of events) expect(versionOf(event.vcluster)).toBe(String(event.resourceVersion));
      expect(events[2]?.vcluster.status?.phase).toBe(Phase.DELETING);
      expect(events[2]?.vcluster.name).toBe("one");
      expect(store.eventsAfter(1, 1).map((e) => e.resourceVersion)).toEqual([2]);
      expect(store.eventsAfter(3)).toEqual([]);
      expect(store.eventsAfter(99)).toEqual([]);
    });

    it("trims history beyond historyLimit and reports expired versions", () => {
      const small = open({ historyLimit: 3 });
      for (let i = 0; i < 5; i++) small.putVCluster(vcluster({ name: `vc-${i}` }));
      expect(small.currentVersion()).toBe(5);
      expect(small.oldestRetainedVersion()).toBe(2);
      expect(small.eventsAfter(2).map((e) => e.resourceVersion)).toEqual([3, 4, 5]);
      let caught: unknown;
      try {
        small.eventsAfter(1);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(HistoryExpiredError);
      expect(caught).toMatchObject({ requestedVersion: 1, oldestRetainedVersion: 2 });
      small.transaction((tx) => {
        tx.putVCluster(vcluster({ name: "vc-9" }));
        tx.deleteVCluster("id-default-vc-0");
      });
      expect(small.oldestRetainedVersion()).toBe(4);
      expect(small.eventsAfter(4).map((e) => e.resourceVersion)).toEqual([5, 6, 7]);
    });

    it("publishes to subscribers after commit, once per transaction, in order", () => {
      const batches: StoredEvent[][] = [];
      store.subscribe((events) => batches.push(events));
      store.transaction((tx) => {
        tx.putVCluster(vcluster({ name: "a" }));
        tx.putVCluster(vcluster({ name: "b" }));
        expect(batches).toHaveLength(0);
        expect(store.currentVersion()).toBe(0);
      });
      expect(batches.map((b) => b.map((e) => [e.resourceVersion, e.vcluster.name]))).toEqual([
        [
          [1, "a"],
          [2, "b"],
        ],
      ]);
      store.putSnapshot(snapshot({ id: "s1" }));
      store.putIdempotency({ key: "k", fingerprint: "f", response: new Uint8Array(), createTime: new Date(0) });
      expect(batches).toHaveLength(1);
    });

    it("publishes nothing for a rolled-back transaction", () => {
      const batches: StoredEvent[][] = [];
      store.subscribe((events) => batches.push(events));
      expect(() =>
        store.transaction((tx) => {
          tx.putVCluster(vcluster({ name: "a" }));
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(batches).toEqual([]);
      expect(store.eventsAfter(0)).toEqual([]);
    });

    it("isolates subscribers: unsubscribing, failing and mutating listeners do not affect others", () => {
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
      const put = isolated.putVCluster(vcluster({ name: "a" }));
      expect(versionOf(put)).toBe("1");
      expect(seen).toEqual(["a"]);
      expect(errors).toHaveLength(1);
      expect(isolated.getVCluster("default", "a")).toBeDefined();
      expect(isolated.eventsAfter(0)[0]?.vcluster.name).toBe("a");
    });
  });

  describe("transactions", () => {
    it("leaves nothing behind when fn throws", () => {
      store.putVCluster(vcluster({ name: "keep", labels: { v: "1" } }));
      store.putSnapshot(snapshot({ id: "s-keep" }), new Uint8Array([1]));
      store.putIdempotency({ key: "k-keep", fingerprint: "f", response: new Uint8Array([1]), createTime: new Date(5) });
      const before = store.getVCluster("default", "keep");

      expect(() =>
        store.transaction((tx) => {
          tx.putVCluster(vcluster({ name: "keep", labels: { v: "2" } }));
          tx.putVCluster(vcluster({ name: "new" }));
          tx.deleteVCluster("id-default-keep");
          tx.putSnapshot(snapshot({ id: "s-keep", name: "renamed" }), new Uint8Array([2]));
          tx.putSnapshot(snapshot({ id: "s-new" }), new Uint8Array([3]));
          tx.putIdempotency({ key: "k-new", fingerprint: "f", response: new Uint8Array(), createTime: new Date(9) });
          expect(tx.deleteIdempotencyBefore(new Date(100))).toBe(2);
          expect(tx.getVCluster("default", "new")).toBeDefined();
          throw new Error("abort");
        }),
      ).toThrow("abort");

      expect(store.getVCluster("default", "keep")).toEqual(before);
      expect(store.getVCluster("default", "new")).toBeUndefined();
      expect(store.getSnapshot("s-keep")?.name).toBe("s-keep");
      expect(store.getSnapshotByName("default", "renamed")).toBeUndefined();
      expect(store.getSnapshotContent("s-keep")).toEqual(new Uint8Array([1]));
      expect(store.getSnapshot("s-new")).toBeUndefined();
      expect(store.getIdempotency("k-keep")?.createTime).toEqual(new Date(5));
      expect(store.getIdempotency("k-new")).toBeUndefined();
      expect(store.currentVersion()).toBe(1);
      expect(versionOf(store.putVCluster(vcluster({ name: "after" })))).toBe("2");
      expect(store.eventsAfter(0).map((e) => e.resourceVersion)).toEqual([1, 2]);
    });

    it("rolls back a nested transaction alone when its fn throws", () => {
      const batches: StoredEvent[][] = [];
      store.subscribe((events) => batches.push(events));
      const result = store.transaction((tx) => {
        tx.putVCluster(vcluster({ name: "outer" }));
        expect(() =>
          store.transaction((inner) => {
            inner.putVCluster(vcluster({ name: "inner" }));
            throw new Error("inner failed");
          }),
        ).toThrow("inner failed");
        store.transaction((inner) => inner.putVCluster(vcluster({ name: "kept" })));
        return "done";
      });
      expect(result).toBe("done");
      expect(store.getVCluster("default", "inner")).toBeUndefined();
      expect(store.getVCluster("default", "outer")).toBeDefined();
      expect(versionOf(store.getVCluster("default", "kept"))).toBe("2");
      expect(batches.map((b) => b.map((e) => e.vcluster.name))).toEqual([["outer", "kept"]]);
    });

    it("rejects asynchronous callbacks and rolls them back", () => {
      expect(() =>
        store.transaction(async (tx) => {
          tx.putVCluster(vcluster({ name: "a" }));
        }),
      ).toThrow(/synchronous/);
      expect(store.getVCluster("default", "a")).toBeUndefined();
    });

    it("refuses use after close", () => {
      const closing = open();
      closing.close();
      expect(() => closing.getVCluster("default", "a")).toThrow();
      expect(() => closing.putVCluster(vcluster({ name: "a" }))).toThrow();
      closing.close();
    });
  });

  describe("listing vclusters", () => {
    beforeEach(() => {
      store.transaction((tx) => {
        tx.putVCluster(
          vcluster({
            name: "a",
            namespace: "ns1",
            owner: "alice",
            project: "red",
            labels: { env: "prod" },
            createTimeMs: 1,
          }),
        );
        tx.putVCluster(
          vcluster({
            name: "b",
            namespace: "ns1",
            owner: "bob",
            project: "blue",
            phase: Phase.SUSPENDED,
            createTimeMs: 3,
          }),
        );
        tx.putVCluster(
          vcluster({
            name: "a",
            namespace: "ns2",
            owner: "bob",
            project: "red",
            labels: { env: "dev" },
            createTimeMs: 2,
          }),
        );
        tx.putVCluster(vcluster({ name: "c", namespace: "ns2", owner: "carol", phase: Phase.ERROR, createTimeMs: 2 }));
      });
    });

    const names = (filter: VClusterFilter, order: VClusterOrder = "name") => {
      const result = store.listVClusters(filter, order, undefined, 100);
      expect(result.total).toBe(result.items.length);
      expect(result.hasMore).toBe(false);
      return result.items.map((v) => `${v.namespace}/${v.name}`);
    };

    it("filters by every field", () => {
      expect(names({})).toEqual(["ns1/a", "ns1/b", "ns2/a", "ns2/c"]);
      expect(names({ namespace: "ns2" })).toEqual(["ns2/a", "ns2/c"]);
      expect(names({ name: "a" })).toEqual(["ns1/a", "ns2/a"]);
      expect(names({ namespace: "ns1", name: "a" })).toEqual(["ns1/a"]);
      expect(names({ phases: [Phase.SUSPENDED, Phase.ERROR] })).toEqual(["ns1/b", "ns2/c"]);
      expect(names({ phases: [] })).toHaveLength(4);
      expect(names({ owner: "bob" })).toEqual(["ns1/b", "ns2/a"]);
      expect(names({ project: "red" })).toEqual(["ns1/a", "ns2/a"]);
      expect(names({ visibleTo: { owner: "carol", projects: ["blue"] } })).toEqual(["ns1/b", "ns2/c"]);
      expect(names({ visibleTo: { owner: "nobody", projects: [] } })).toEqual([]);
      expect(names({ labels: (l) => l.env !== undefined })).toEqual(["ns1/a", "ns2/a"]);
      expect(names({ labels: (l) => l.env === "dev", owner: "bob" })).toEqual(["ns2/a"]);
      expect(names({ labels: () => false })).toEqual([]);
    });

    it("orders by name, create time and newest first, breaking ties by id", () => {
      expect(names({}, "create_time")).toEqual(["ns1/a", "ns2/a", "ns2/c", "ns1/b"]);
      expect(names({}, "-create_time")).toEqual(["ns1/b", "ns2/c", "ns2/a", "ns1/a"]);
    });

    it("counts all matches while returning one page", () => {
      const first = store.listVClusters({ namespace: "ns1" }, "name", undefined, 1);
      expect(first).toMatchObject({ total: 2, hasMore: true });
      expect(first.items.map((v) => v.name)).toEqual(["a"]);
      const labelled = store.listVClusters({ labels: (l) => l.env !== undefined }, "name", undefined, 1);
      expect(labelled).toMatchObject({ total: 2, hasMore: true });
      const last = store.listVClusters({}, "name", vclusterCursor(vcluster({ name: "a", namespace: "ns2" })), 1);
      expect(last).toMatchObject({ total: 4, hasMore: false });
      expect(last.items.map((v) => v.name)).toEqual(["c"]);
      expect(store.listVClusters({}, "name", undefined, 0)).toMatchObject({ items: [], total: 4, hasMore: true });
      expect(() => store.listVClusters({}, "name", undefined, -1)).toThrow(RangeError);
    });
  });

  describe.each<[VClusterOrder, boolean]>([
    ["name", false],
    ["create_time", false],
    ["-create_time", false],
    ["name", true],
    ["create_time", true],
    ["-create_time", true],
  ])("keyset paging by %s (label filter: %s)", (order, withLabels) => {
    it("never skips nor repeats items that exist throughout, while others come and go", () => {
      const next = random(order.length * 7 + (withLabels ? 1 : 0));
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const filter: VClusterFilter = withLabels ? { labels: (l) => l.tier === "web" } : {};
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
      store.transaction((tx) => {
        for (let i = 0; i < 48; i++) {
          const v = tx.putVCluster(make());
          model.set(v.id, v);
          (next() < 0.7 ? stable : volatile).add(v.id);
        }
      });

      const seen: VCluster[] = [];
      let cursor: ReturnType<typeof vclusterCursor> | undefined;
      for (let pages = 0; ; pages++) {
        expect(pages).toBeLessThan(200);
        const limit = 1 + Math.floor(next() * 6);
        const page = store.listVClusters(filter, order, cursor, limit);
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
            const v = store.putVCluster(make());
            model.set(v.id, v);
            volatile.add(v.id);
          } else if (roll < 0.8 && volatile.size > 0) {
            const id = pick([...volatile]);
            volatile.delete(id);
            store.deleteVCluster(id);
            model.delete(id);
          } else {
            const id = pick([...stable]);
            const current = store.getVClusterById(id);
            if (current === undefined) throw new Error(`stable ${id} vanished`);
            current.annotations.touched = String(serial++);
            model.set(id, store.putVCluster(current));
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

  describe("snapshots", () => {
    it("creates, reads, replaces and deletes, keeping content unless replaced", () => {
      const content = new Uint8Array([1, 2, 3]);
      store.putSnapshot(snapshot({ id: "s1", name: "first", labels: { k: "v" } }), content);
      content[0] = 9;
      const got = store.getSnapshot("s1");
      expect(got?.name).toBe("first");
      expect(got && equals(SnapshotSchema, got, snapshot({ id: "s1", name: "first", labels: { k: "v" } }))).toBe(true);
      expect(store.getSnapshotByName("default", "first")?.id).toBe("s1");
      expect(store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));

      const returned = store.getSnapshotContent("s1");
      if (returned) returned[0] = 7;
      if (got) got.name = "mutated";
      expect(store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));
      expect(store.getSnapshot("s1")?.name).toBe("first");

      store.putSnapshot(snapshot({ id: "s1", name: "first", expireTimeMs: 50 }));
      expect(store.getSnapshot("s1")?.expireTime).toBeDefined();
      expect(store.getSnapshotContent("s1")).toEqual(new Uint8Array([1, 2, 3]));
      store.putSnapshot(snapshot({ id: "s1", name: "first" }), new Uint8Array([4]));
      expect(store.getSnapshotContent("s1")).toEqual(new Uint8Array([4]));

      store.putSnapshot(snapshot({ id: "s2" }));
      expect(store.getSnapshotContent("s2")).toBeUndefined();
      expect(() => store.putSnapshot(snapshot({ id: "s3", name: "first" }))).toThrow(NameConflictError);

      expect(store.deleteSnapshot("s1")).toBe(true);
      expect(store.deleteSnapshot("s1")).toBe(false);
      expect(store.getSnapshot("s1")).toBeUndefined();
      expect(store.getSnapshotByName("default", "first")).toBeUndefined();
      expect(store.getSnapshotContent("s1")).toBeUndefined();
      store.putSnapshot(snapshot({ id: "s3", name: "first" }));
      expect(store.getSnapshotContent("s3")).toBeUndefined();
    });

    it("filters and pages newest first", () => {
      store.transaction((tx) => {
        tx.putSnapshot(
          snapshot({ id: "a", createTimeMs: 10, vclusterId: "v1", vclusterName: "one", labels: { k: "x" } }),
        );
        tx.putSnapshot(snapshot({ id: "b", createTimeMs: 30, vclusterId: "v1", vclusterName: "one" }));
        tx.putSnapshot(snapshot({ id: "c", createTimeMs: 20, vclusterId: "v2", vclusterName: "two", namespace: "ns" }));
        tx.putSnapshot(
          snapshot({ id: "d", createTimeMs: 30, vclusterId: "v3", vclusterName: "one", labels: { k: "y" } }),
        );
      });
      const all = (filter: Parameters<Store["listSnapshots"]>[0]) =>
        ids(store.listSnapshots(filter, undefined, 10).items);
      expect(all({})).toEqual(["d", "b", "c", "a"]);
      expect(all({ namespace: "ns" })).toEqual(["c"]);
      expect(all({ vclusterName: "one" })).toEqual(["d", "b", "a"]);
      expect(all({ vclusterId: "v1" })).toEqual(["b", "a"]);
      expect(all({ labels: (l) => l.k !== undefined })).toEqual(["d", "a"]);
      expect(all({ visibleVClusterIds: new Set(["v2", "v3"]) })).toEqual(["d", "c"]);
      expect(all({ visibleVClusterIds: new Set() })).toEqual([]);

      const first = store.listSnapshots({}, undefined, 3);
      expect(first).toMatchObject({ total: 4, hasMore: true });
      const last = first.items.at(-1);
      if (last === undefined) throw new Error("empty page");
      store.putSnapshot(snapshot({ id: "e", createTimeMs: 40 }));
      const second = store.listSnapshots({}, snapshotCursor(last), 3);
      expect(ids(second.items)).toEqual(["a"]);
      expect(second).toMatchObject({ total: 5, hasMore: false });
      const labelled = store.listSnapshots({ labels: (l) => l.k !== undefined }, undefined, 1);
      expect(labelled).toMatchObject({ total: 2, hasMore: true });
    });

    it("finds snapshots that expire at or before a time, soonest first", () => {
      store.putSnapshot(snapshot({ id: "late", expireTimeMs: 3_000 }));
      store.putSnapshot(snapshot({ id: "soon", expireTimeMs: 1_000 }));
      store.putSnapshot(snapshot({ id: "edge", expireTimeMs: 2_000 }));
      store.putSnapshot(snapshot({ id: "forever" }));
      expect(ids(store.snapshotsExpiringBefore(new Date(2_000)))).toEqual(["soon", "edge"]);
      expect(store.snapshotsExpiringBefore(new Date(999))).toEqual([]);
      expect(ids(store.snapshotsExpiringBefore(new Date(10_000)))).toEqual(["soon", "edge", "late"]);
    });
  });

  describe("idempotency records", () => {
    it("stores, replaces and expires records", () => {
      const response = new Uint8Array([1, 2]);
      store.putIdempotency({ key: "a", fingerprint: "f1", response, createTime: new Date(1_000) });
      response[0] = 9;
      expect(store.getIdempotency("a")).toEqual({
        key: "a",
        fingerprint: "f1",
        response: new Uint8Array([1, 2]),
        createTime: new Date(1_000),
      });
      store.putIdempotency({ key: "a", fingerprint: "f2", response: new Uint8Array([3]), createTime: new Date(3_000) });
      expect(store.getIdempotency("a")?.fingerprint).toBe("f2");
      store.putIdempotency({ key: "b", fingerprint: "f", response: new Uint8Array(), createTime: new Date(2_000) });
      expect(store.getIdempotency("missing")).toBeUndefined();

      expect(store.deleteIdempotencyBefore(new Date(2_000))).toBe(0);
      expect(store.deleteIdempotencyBefore(new Date(2_001))).toBe(1);
      expect(store.getIdempotency("b")).toBeUndefined();
      expect(store.getIdempotency("a")).toBeDefined();
    });
  });
});
