import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Annotations, Phase, VClusterSchema, VClusterService, WatchEventType } from "@open-vcluster/api";
import pgDriver from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore, type RunningServer } from "../src/index.js";
import { HistoryExpiredError } from "../src/store/types.js";
import { PostgresServer } from "./postgres-server.js";
import { clientsFor, testServer, transportFor } from "./support.js";

// Several server replicas on one real PostgreSQL database.

let pg: PostgresServer;
let databases = 0;
const SECRET = "replica-test-secret";

beforeAll(async () => {
  pg = await PostgresServer.start();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

function freshDatabase(): `postgres://${string}` {
  return pg.createDatabase(`replicas_${++databases}`) as `postgres://${string}`;
}

async function replicas(count: number, url: string, options: Parameters<typeof testServer>[0] = {}) {
  const servers: RunningServer[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(await testServer({ store: url as `postgres://${string}`, secret: SECRET, ...options }));
  }
  return servers;
}

/** Polls a condition that a state change will make true, up to a generous ceiling. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ceilingMs = 180_000): Promise<T> {
  const deadline = Date.now() + ceilingMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Seen {
  version: number;
  type: WatchEventType;
  name: string;
}

/** Collects a watch's events (after its initial state) until one carries `until` or more. */
function collect(server: RunningServer, from: string) {
  const seen: Seen[] = [];
  const controller = new AbortController();
  let newest = 0;
  const waiters: { version: number; resolve: () => void }[] = [];
  const client = clientsFor(transportFor(server, "grpc")).vc;
  const done = (async () => {
    try {
      for await (const message of client.watchVCluster({ resourceVersion: from }, { signal: controller.signal })) {
        const version = Number(message.vcluster?.annotations[Annotations.resourceVersion] ?? 0);
        if (message.type !== WatchEventType.UNSPECIFIED) {
          seen.push({ version, type: message.type, name: message.vcluster?.name ?? "" });
        }
        newest = Math.max(newest, version);
        for (const w of waiters.filter((w) => w.version <= newest)) w.resolve();
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return {
    seen,
    reached: (version: number) =>
      newest >= version ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ version, resolve })),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

async function listAll(server: RunningServer) {
  const client = clientsFor(transportFor(server, "grpc")).vc;
  const all: { name: string; labels: Record<string, string>; phase: Phase }[] = [];
  let pageToken = "";
  do {
    const page = await client.listVClusters({ pageSize: 500, pageToken });
    for (const v of page.vclusters) all.push({ name: v.name, labels: { ...v.labels }, phase: v.status?.phase ?? 0 });
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all.sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe("replicas on one PostgreSQL database", () => {
  it("serve one state: a mixed workload through all of them matches a model, and every replica's watch sees the same ordered stream", async () => {
    const servers = await replicas(3, freshDatabase());
    const watches = servers.map((s) => collect(s, "0"));
    const model = new Map<string, Record<string, string>>();
    // Four clients, each with names of its own, each call through a replica chosen by turn.
    await Promise.all(
      [0, 1, 2, 3].map(async (clientIndex) => {
        for (let step = 0; step < 12; step++) {
          const server = servers[(clientIndex + step) % servers.length] as RunningServer;
          const c = clientsFor(transportFor(server, "grpc"));
          const name = `c${clientIndex}-${step % 4}`;
          const labels = model.get(name);
          if (labels === undefined) {
            await c.vc.createVCluster({ name, labels: { step: String(step) } });
            model.set(name, { step: String(step) });
          } else if (step % 3 === 0) {
            await eventually(`${name} settled`, async () => {
              await c.vc.deleteVCluster({ name });
              return true;
            });
            model.delete(name);
            await eventually(`${name} gone`, async () =>
              (await listAll(server)).some((v) => v.name === name) ? undefined : true,
            );
          } else {
            await eventually(`${name} updated`, async () => {
              await c.vc.updateVCluster({
                name,
                labels: { step: String(step) },
                updateMask: { paths: ["labels"] },
              });
              return true;
            });
            model.set(name, { step: String(step) });
          }
        }
      }),
    );
    await Promise.all(servers.map((s) => s.api.idle()));
    const expected = [...model.entries()]
      .map(([name, labels]) => ({ name, labels }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const server of servers) {
      const state = await eventually("all RUNNING", async () => {
        const all = await listAll(server);
        return all.every((v) => v.phase === Phase.RUNNING) ? all : undefined;
      });
      expect(state.map(({ name, labels }) => ({ name, labels }))).toEqual(expected);
    }
    const newest = await servers[0]?.store.currentVersion();
    await Promise.all(watches.map((w) => w.reached(newest ?? 0)));
    for (const w of watches) await w.stop();
    const [first, ...others] = watches.map((w) => w.seen);
    expect(first?.length).toBe(newest);
    // Strictly increasing, no gaps: every committed change exactly once, in order.
    expect(first?.map((e) => e.version)).toEqual(Array.from({ length: newest ?? 0 }, (_, i) => i + 1));
    for (const other of others) expect(other).toEqual(first);
  }, 180_000);

  it("share each vcluster's timeline and usage history: what one replica records, another lists", async () => {
    const [a, b] = await replicas(2, freshDatabase(), { usageSampleIntervalMs: 1 });
    if (!a || !b) throw new Error("replicas did not start");
    const ca = clientsFor(transportFor(a, "grpc"));
    const cb = clientsFor(transportFor(b, "grpc"));
    await ca.vc.createVCluster({ name: "shared", waitForReady: true });
    await cb.vc.suspendVCluster({ name: "shared" });
    const suspended = await eventually("suspended", async () => {
      const { events } = await ca.vc.listVClusterEvents({ name: "shared" });
      return events.some((e) => e.reason === "SuspendSucceeded") ? events : undefined;
    });
    const fromB = await cb.vc.listVClusterEvents({ name: "shared" });
    expect(fromB.events).toEqual(suspended);
    const reasons = suspended.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["CreateRequested", "CreateSucceeded", "SuspendRequested"]));
    // Sequences are the vcluster's own, gapless whichever replica wrote them.
    expect(suspended.map((e) => Number(e.sequence))).toEqual(suspended.map((_, i) => i + 1));
    const usageA = await ca.vc.listVClusterUsage({ name: "shared" });
    expect((await cb.vc.listVClusterUsage({ name: "shared" })).samples).toEqual(usageA.samples);
    expect(usageA.samples.at(-1)?.usage?.cpuUsage).toBe("0");
  }, 180_000);

  it("resume a watch on another replica from the version one replica sent", async () => {
    const [a, b] = await replicas(2, freshDatabase());
    if (!a || !b) throw new Error("replicas did not start");
    const ca = clientsFor(transportFor(a, "grpc"));
    await ca.vc.createVCluster({ name: "one" });
    await a.api.idle();
    const version = await a.store.currentVersion();
    const fromB = collect(b, String(version));
    await ca.vc.createVCluster({ name: "two" });
    await a.api.idle();
    const newest = await a.store.currentVersion();
    await fromB.reached(newest);
    await fromB.stop();
    // Exactly the changes after the version, in order, starting with the create of "two".
    expect(fromB.seen.map((e) => e.version)).toEqual(
      Array.from({ length: newest - version }, (_, i) => version + 1 + i),
    );
    expect(fromB.seen[0]).toMatchObject({ type: WatchEventType.ADDED, name: "two" });
    expect(fromB.seen.every((e) => e.name === "two")).toBe(true);
  }, 60_000);

  it("count provisioning capacity over all replicas: never more creates running than --max-concurrent-creates", async () => {
    const servers = await replicas(2, freshDatabase(), { maxConcurrentCreates: 2, timeScale: 0.1 });
    const running = new Set<string>();
    const seenPending = new Set<string>();
    let most = 0;
    const watcher = clientsFor(transportFor(servers[0] as RunningServer, "grpc")).vc;
    const abort = new AbortController();
    const settled = new Set<string>();
    let allSettled = () => {};
    const done = new Promise<void>((resolve) => {
      allSettled = resolve;
    });
    const watching = (async () => {
      for await (const e of watcher.watchVCluster({}, { signal: abort.signal })) {
        const v = e.vcluster;
        if (!v?.name) continue;
        if (v.status?.phase === Phase.PENDING) seenPending.add(v.name);
        if (v.status?.phase === Phase.CREATING) running.add(v.name);
        else running.delete(v.name);
        most = Math.max(most, running.size);
        if (v.status?.phase === Phase.RUNNING) settled.add(v.name);
        if (settled.size === 6) allSettled();
      }
    })().catch((error: unknown) => {
      if (!abort.signal.aborted) throw error;
    });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        clientsFor(transportFor(servers[i % 2] as RunningServer, "grpc")).vc.createVCluster({ name: `cap-${i}` }),
      ),
    );
    await done;
    abort.abort();
    await watching;
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
    expect(seenPending.size).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it("never let two replicas racing to change one vcluster both win", async () => {
    const [a, b] = await replicas(2, freshDatabase(), { timeScale: 1 });
    if (!a || !b) throw new Error("replicas did not start");
    const ca = clientsFor(transportFor(a, "grpc"));
    const cb = clientsFor(transportFor(b, "grpc"));
    await ca.vc.createVCluster({ name: "contested" });
    for (let round = 0; round < 4; round++) {
      await eventually("RUNNING", async () => {
        const got = await ca.vc.getVCluster({ name: "contested" });
        return got.vcluster?.status?.phase === Phase.RUNNING ? true : undefined;
      });
      const results = await Promise.allSettled([
        ca.vc.snapshotVCluster({ name: "contested", snapshotName: `round-${round}` }),
        cb.vc.suspendVCluster({ name: "contested" }).then(async (r) => {
          await eventually("SUSPENDED", async () => {
            const got = await cb.vc.getVCluster({ name: "contested" });
            return got.vcluster?.status?.phase === Phase.SUSPENDED ? true : undefined;
          });
          await cb.vc.resumeVCluster({ name: "contested" });
          return r;
        }),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      const lost = ConnectError.from((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason);
      expect([Code.FailedPrecondition, Code.Aborted], lost.message).toContain(lost.code);
    }
  }, 120_000);

  it("keep watch streams whole across a database restart, answer UNAVAILABLE and not ready meanwhile, and recover by themselves", async () => {
    const [a, b] = await replicas(2, freshDatabase());
    if (!a || !b) throw new Error("replicas did not start");
    const ca = clientsFor(transportFor(a, "grpc"));
    const watches = [collect(a, "0"), collect(b, "0")];
    for (let i = 0; i < 5; i++) await ca.vc.createVCluster({ name: `before-${i}` });
    await pg.kill();
    await eventually("not ready", async () => ((await fetch(`${a.url}/readyz`)).status === 503 ? true : undefined));
    const refused = await ca.vc.createVCluster({ name: "during" }).then(
      () => undefined,
      (error: unknown) => ConnectError.from(error),
    );
    expect(refused?.code).toBe(Code.Unavailable);
    await pg.restart();
    for (const server of [a, b]) {
      await eventually("ready again", async () =>
        (await fetch(`${server.url}/readyz`)).status === 200 ? true : undefined,
      );
    }
    await eventually("writes work again", async () => {
      await ca.vc.createVCluster({ name: "after-0" });
      return true;
    });
    for (let i = 1; i < 5; i++) await ca.vc.createVCluster({ name: `after-${i}` });
    await Promise.all([a, b].map((s) => s.api.idle()));
    const newest = await a.store.currentVersion();
    await Promise.all(watches.map((w) => w.reached(newest)));
    for (const w of watches) await w.stop();
    const [first, second] = watches.map((w) => w.seen);
    expect(first?.map((e) => e.version)).toEqual(Array.from({ length: newest }, (_, i) => i + 1));
    expect(second).toEqual(first);
    const added = first?.filter((e) => e.type === WatchEventType.ADDED).map((e) => e.name);
    expect(added).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `after-${i}`),
    ]);
  }, 120_000);
});

describe("a replica reading the shared history", () => {
  // A replica that stalls between reading where the history starts and reading the events
  // would otherwise take what is left after another replica's trim for the whole story.
  it("reports a gap when another replica trims the history while it reads, never the events after it as continuous", async () => {
    const url = freshDatabase();
    const writer = openStore(url, { historyLimit: 50 });
    for (let i = 0; i < 5; i++) {
      const vcluster = create(VClusterSchema, { id: `id-${i}`, name: `vc-${i}`, namespace: "default" });
      await writer.transaction((tx) => tx.putVCluster(vcluster));
    }
    const newest = await writer.currentVersion();
    await writer.close();
    // The reader's feed wakes only once, at start; nothing else reads while the test does.
    const reader = openStore(`${url}?application_name=reader`, { pollIntervalMs: 3_600_000 });
    const trimmer = new pgDriver.Client({ connectionString: url });
    const observer = new pgDriver.Client({ connectionString: url });
    await Promise.all([trimmer.connect(), observer.connect()]);
    const readerBackends = async (where: string) =>
      Number(
        (
          await observer.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'reader' AND ${where}`,
          )
        ).rows[0]?.n,
      );
    try {
      await reader.currentVersion();
      await eventually("the reader's first feed read to finish", async () =>
        (await readerBackends("state <> 'idle'")) === 0 ? true : undefined,
      );
      await trimmer.query("BEGIN");
      await trimmer.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      const read = reader.eventsAfter(1).then(
        (events) => events.map((e) => e.resourceVersion),
        (error: unknown) => error,
      );
      await eventually("the reader to wait for the events table", async () =>
        (await readerBackends("wait_event_type = 'Lock'")) === 1 ? true : undefined,
      );
      // What another replica's commit does once the history is longer than it keeps.
      await trimmer.query("DELETE FROM events WHERE resource_version < $1", [newest]);
      await trimmer.query("UPDATE meta SET oldest_retained_version = $1", [newest - 1]);
      await trimmer.query("COMMIT");
      const result = await read;
      expect(result).toBeInstanceOf(HistoryExpiredError);
      expect(result).toMatchObject({ requestedVersion: 1, oldestRetainedVersion: newest - 1 });
    } finally {
      await Promise.all([trimmer.end(), observer.end(), reader.close()]);
    }
  }, 120_000);
});

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");

function startReplica(url: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      "--no-warnings",
      bin,
      "--port",
      "0",
      "--store",
      url,
      "--secret",
      SECRET,
      "--time-scale",
      "0.02",
      "--operation-lease",
      "1500",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } },
  );
  processes.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /vcluster-api-server listening on (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.once("exit", (code) => reject(new Error(`replica exited (${code}): ${err}`)));
  });
}

const processes: ChildProcess[] = [];
afterEach(() => {
  for (const child of processes.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

describe("replica processes", () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`the built bin is missing (${bin}): build the package first`);
  });

  it("end the watches of a replica that fell behind the retained history with RESOURCE_VERSION_EXPIRED, and go on", async () => {
    const url = freshDatabase();
    // A writes and trims: it keeps 20 events.
    const a = await testServer({ store: url, secret: SECRET, historyLimit: 20 });
    const b = await startReplica(url);
    const ca = clientsFor(transportFor(a, "grpc")).vc;
    const cb = createClient(VClusterService, createConnectTransport({ baseUrl: b.url, httpVersion: "1.1" }));
    const watch = async (onEvent: (version: number) => void, ready: () => void): Promise<unknown> => {
      try {
        for await (const message of cb.watchVCluster({})) {
          if (message.type === WatchEventType.UNSPECIFIED) ready();
          else onEvent(Number(message.vcluster?.annotations[Annotations.resourceVersion]));
        }
        return undefined;
      } catch (error) {
        return error;
      }
    };
    let newest = 0;
    let first = Number.POSITIVE_INFINITY;
    let reached: (() => void) | undefined;
    let watching: () => void = () => {};
    const registered = new Promise<void>((resolve) => (watching = resolve));
    // Fails at once (not at the test's ceiling) when an event after the gap arrives.
    let passedOff: (error: Error) => void = () => {};
    const gapHidden = new Promise<Error>((resolve) => (passedOff = resolve));
    const ended = watch((version) => {
      newest = version;
      reached?.();
      if (version > first) passedOff(new Error(`event ${version} after the gap was delivered as continuous`));
    }, watching);
    await registered;
    await ca.createVCluster({ name: "before" });
    await a.api.idle();
    first = await a.store.currentVersion();
    if (newest < first) await new Promise<void>((resolve) => (reached = () => newest >= first && resolve()));

    // B stalls (as under a long pause) while A commits far more than the history keeps.
    b.child.kill("SIGSTOP");
    try {
      for (let i = 0; i < 15; i++) await ca.createVCluster({ name: `while-stalled-${i}` });
      await a.api.idle();
      expect(await a.store.oldestRetainedVersion()).toBeGreaterThan(first);
    } finally {
      b.child.kill("SIGCONT");
    }
    const error = await Promise.race([ended, gapHidden]);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.OutOfRange);
    expect((error as ConnectError).rawMessage).toMatch(/older than the retained history/);
    // Nothing after the gap was passed off as continuous: the stream stopped at what it had.
    expect(newest).toBe(first);

    // B goes on: a fresh watch lists everything and sees the next change committed through A.
    let latest = 0;
    let relisted: () => void = () => {};
    const listed = new Promise<void>((resolve) => (relisted = resolve));
    let sawAfter: () => void = () => {};
    const after = new Promise<void>((resolve) => (sawAfter = resolve));
    const target = { version: Number.POSITIVE_INFINITY };
    const again = watch((version) => {
      latest = version;
      if (latest >= target.version) sawAfter();
    }, relisted);
    await listed;
    await ca.createVCluster({ name: "after" });
    await a.api.idle();
    target.version = await a.store.currentVersion();
    if (latest >= target.version) sawAfter();
    await after;
    expect((await cb.listVClusters({ pageSize: 100 })).totalCount).toBe(17);
    // A graceful shutdown ends the stream cleanly.
    b.child.kill("SIGTERM");
    expect(await again).toBeUndefined();
  }, 180_000);

  // Every write takes the version row in turn: a loaded machine makes this slow, not wrong.
  it("lose no acknowledged create and leave no operation stuck when one is SIGKILLed during 1,000 concurrent creates", async () => {
    const url = freshDatabase();
    const started = await Promise.all([startReplica(url), startReplica(url), startReplica(url)]);
    const clients = started.map((r) =>
      createClient(VClusterService, createConnectTransport({ baseUrl: r.url, httpVersion: "1.1" })),
    );
    const acknowledged = new Set<string>();
    let next = 0;
    let killed = false;
    const total = 1000;
    // 32 callers at a time; a call that fails is retried on another replica with the same
    // request id, as a client behind a load balancer would.
    const worker = async (lane: number) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const name = `vc-${String(i).padStart(4, "0")}`;
        for (let attempt = 0; ; attempt++) {
          const replica = killed ? 1 + ((lane + attempt) % 2) : (lane + attempt) % 3;
          try {
            await (clients[replica] as (typeof clients)[number]).createVCluster({ name, requestId: `req-${name}` });
            acknowledged.add(name);
            break;
          } catch (error) {
            if (attempt > 20) throw error;
          }
        }
        if (!killed && acknowledged.size >= 300) {
          killed = true;
          started[0]?.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, (_, lane) => worker(lane)));
    expect(killed).toBe(true);
    expect(acknowledged.size).toBe(total);
    const survivor = clients[1] as (typeof clients)[number];
    // The dead replica's creates are taken over once its leases expire.
    const all = await eventually(
      "every vcluster RUNNING",
      async () => {
        const items: { name: string; phase: Phase }[] = [];
        let pageToken = "";
        do {
          const page = await survivor.listVClusters({ pageSize: 1000, pageToken });
          for (const v of page.vclusters) items.push({ name: v.name, phase: v.status?.phase ?? 0 });
          pageToken = page.nextPageToken;
        } while (pageToken);
        return items.length === total && items.every((v) => v.phase === Phase.RUNNING) ? items : undefined;
      },
      600_000,
    );
    expect(new Set(all.map((v) => v.name))).toEqual(acknowledged);
    const store = openStore(url as `postgres://${string}`);
    try {
      for (const v of all.slice(0, 50)) {
        const stored = await store.getVCluster("default", v.name);
        expect(await store.getOperation(stored?.id ?? "")).toBeUndefined();
      }
      const stuck = await store.transaction((tx) =>
        tx.claimOperations({ owner: "audit", leaseMs: 1, limit: 10, takeOverLive: true }),
      );
      expect(stuck).toEqual([]);
    } finally {
      await store.close();
    }
  }, 900_000);
});
