import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { create } from "@bufbuild/protobuf";
import { VClusterSchema } from "@open-vcluster/api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SqliteStore } from "./sqlite.js";

// The log syncs (fdatasync) are held here until a test lets them run, or fails them.
const syncs = vi.hoisted(() => {
  type Done = (error: NodeJS.ErrnoException | null) => void;
  const held: Array<{ run: () => void; fail: (error: NodeJS.ErrnoException) => void }> = [];
  const waiters: Array<() => void> = [];
  return {
    held,
    calls: 0,
    hold: false,
    intercept(fd: number, done: Done, real: (fd: number, done: Done) => void) {
      this.calls += 1;
      if (!this.hold) return real(fd, done);
      held.push({ run: () => real(fd, done), fail: (error) => done(error) });
      for (const wake of waiters.splice(0)) wake();
    },
    /** Resolves once `count` syncs are held. */
    async heldCount(count: number): Promise<void> {
      while (held.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    release() {
      this.hold = false;
      for (const sync of held.splice(0)) sync.run();
    },
  };
});

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    fdatasync: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) =>
      syncs.intercept(fd, done, fs.fdatasync),
  };
});

let dir = "";
let store: SqliteStore;
let path = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "store-durability-"));
  path = join(dir, "state.db");
  store = new SqliteStore(path);
  syncs.calls = 0;
  syncs.hold = true;
});
afterEach(async () => {
  syncs.release();
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const vcluster = (name: string) => create(VClusterSchema, { id: `id-${name}`, name, namespace: "default" });

/** Tracks whether a promise has settled, without waiting for it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const done = () => {
    settled = true;
  };
  promise.then(done, done);
  return { settled: () => settled, promise };
}

/** Rows committed to the file, as another connection sees them (synced or not). */
function committedRows(): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare("SELECT COUNT(*) AS n FROM vclusters").get()?.n);
  } finally {
    db.close();
  }
}

describe("sqlite store durability", () => {
  it("answers a commit, publishes its events and lets reads see it only once the log is synced", async () => {
    const seen: number[] = [];
    store.subscribe((events) => seen.push(...events.map((e) => e.resourceVersion)));
    const write = track(store.transaction((tx) => tx.putVCluster(vcluster("a"))));
    await syncs.heldCount(1);
    // Committed to the file, not yet synced: nobody has heard of it.
    expect(committedRows()).toBe(1);
    const read = track(store.peekVCluster("default", "a"));
    const version = track(store.currentVersion());
    await new Promise((resolve) => setImmediate(resolve));
    expect([write.settled(), read.settled(), version.settled()]).toEqual([false, false, false]);
    expect(seen).toEqual([]);

    syncs.release();
    await expect(write.promise).resolves.toMatchObject({ name: "a" });
    expect(seen).toEqual([1]);
    await expect(read.promise).resolves.toMatchObject({ name: "a" });
    await expect(version.promise).resolves.toBe(1);
  });

  it("lets commits made during a sync share the next one", async () => {
    const first = track(store.transaction((tx) => tx.putVCluster(vcluster("first"))));
    await syncs.heldCount(1);
    // Each in its own turn, so that each commits on its own while the first sync runs.
    const later = [];
    for (let i = 0; i < 10; i++) {
      later.push(store.transaction((tx) => tx.putVCluster(vcluster(`later-${i}`))));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await vi.waitFor(() => expect(committedRows()).toBe(11), { timeout: 30_000 });
    expect(syncs.calls).toBe(1);

    syncs.release();
    await first.promise;
    const written = await Promise.all(later);
    expect(written.map((v) => v.name)).toEqual(Array.from({ length: 10 }, (_, i) => `later-${i}`));
    expect(syncs.calls).toBe(2);
  });

  it("fails the commits of a sync that fails, and every use of the store after it", async () => {
    const write = track(store.transaction((tx) => tx.putVCluster(vcluster("lost"))));
    await syncs.heldCount(1);
    const read = track(store.getVCluster("default", "lost"));
    // The read runs (and sees the commit) before the sync fails.
    await new Promise((resolve) => setImmediate(resolve));
    const eio = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    syncs.held.splice(0)[0]?.fail(eio);

    await expect(write.promise).rejects.toBe(eio);
    await expect(read.promise).rejects.toBe(eio);
    expect(store.healthy()).toBe(false);
    await expect(store.transaction((tx) => tx.putVCluster(vcluster("next")))).rejects.toThrow(
      /could not be made durable/,
    );
    await expect(store.getVCluster("default", "lost")).rejects.toThrow(/could not be made durable/);
  });
});
