import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { until } from "../../test/drive.js";
import { FakeVClusterBackend, Phase } from "../../test/fake-vcluster-backend.js";
import { bindHelpers } from "../client/api-client.js";
import { ManualClock } from "../time/manual-clock.js";
import type { CacheEvent } from "./cache-store.js";

function setup() {
  const clock = new ManualClock();
  const backend = new FakeVClusterBackend();
  const api = bindHelpers(createRouterTransport(backend.routes), { clock, random: () => 0 });
  return { clock, backend, api };
}

const view = (items: { namespace: string; name: string; annotations: Record<string, string> }[]) =>
  items.map((v) => `${v.namespace}/${v.name}@${Object.values(v.annotations)[0]}`).sort();

describe("VClusterInformer (listWatch)", () => {
  it("lists, syncs, then follows changes, with handlers and async iteration", async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.backend.put("default", `vc-${i}`, Phase.RUNNING);
    const informer = t.api.listWatch({ pageSize: 2 });
    const handled: string[] = [];
    informer.on({
      onAdd: (v) => handled.push(`add ${v.name}`),
      onUpdate: (v, old) => handled.push(`update ${v.name} ${old.status?.phase}->${v.status?.phase}`),
      onDelete: (v) => handled.push(`delete ${v.name}`),
    });
    const iterator = informer[Symbol.asyncIterator]();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.list()).toHaveLength(5);
    t.backend.put("default", "vc-1", Phase.SUSPENDED);
    t.backend.remove("default", "vc-2");
    await until(
      () => informer.list().length === 4 && informer.get("default", "vc-1")?.status?.phase === Phase.SUSPENDED,
    );
    expect(handled.slice(5)).toEqual([`update vc-1 ${Phase.RUNNING}->${Phase.SUSPENDED}`, "delete vc-2"]);
    const first = await iterator.next();
    expect((first.value as CacheEvent).type).toBe(WatchEventType.ADDED);
    informer.stop();
  });

  it("re-lists on an expired version and emits exactly the changes the consumer missed", async () => {
    const t = setup();
    t.backend.put("default", "keep", Phase.RUNNING);
    t.backend.put("default", "change", Phase.RUNNING);
    t.backend.put("default", "gone", Phase.RUNNING);
    const informer = t.api.listWatch();
    const events: string[] = [];
    informer.on((e) => events.push(`${WatchEventType[e.type]} ${e.vcluster.name}`));
    await informer.waitForSync();
    await until(() => t.backend.openedStreams === 1);
    t.backend.heartbeat();
    await until(() => informer.status === "connected");
    events.length = 0;
    // While the watch is down, the server changes state and forgets the history.
    t.backend.watchOpenFailures = [];
    t.backend.breakStreams();
    t.backend.put("default", "change", Phase.SUSPENDED);
    t.backend.remove("default", "gone");
    t.backend.put("default", "new", Phase.CREATING);
    t.backend.expireHistory();
    await until(() => view(informer.list()).join() === view(t.backend.sorted()).join());
    expect(events.sort()).toEqual(["ADDED new", "DELETED gone", "MODIFIED change"]);
    informer.stop();
  });

  it("converges through a full resync when the history is too short even for a fresh list", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.RUNNING);
    t.backend.put("default", "b", Phase.RUNNING);
    t.backend.remove("default", "b");
    // The newest listed version (a@1) is older than the retained history: list-then-watch cannot work.
    t.backend.expireHistory();
    const informer = t.api.listWatch();
    await informer.waitForSync();
    await until(() => t.backend.watchRequests.includes(""));
    t.backend.put("default", "c", Phase.RUNNING);
    t.backend.heartbeat();
    await until(() => view(informer.list()).join() === view(t.backend.sorted()).join());
    expect(
      informer
        .list()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["a", "c"]);
    informer.stop();
  });

  it("fails (and says so to every consumer) on a permanent error", async () => {
    const t = setup();
    const informer = t.api.listWatch({ start: false });
    t.backend.watchOpenFailures = [new ConnectError("who are you", Code.Unauthenticated)];
    const running = informer.start().catch((e) => e);
    const iteration = informer[Symbol.asyncIterator]()
      .next()
      .catch((e) => e);
    expect((await running).code).toBe(Code.Unauthenticated);
    expect((await iteration).code).toBe(Code.Unauthenticated);
    expect(informer.status).toBe("closed");
  });

  it("keeps an exact copy through random churn, disconnects and history loss", async () => {
    const t = setup();
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20; i++) t.backend.put("ns", `vc-${i}`, Phase.RUNNING);
    const informer = t.api.listWatch({ pageSize: 3 });
    await informer.waitForSync();
    for (let round = 0; round < 30; round++) {
      const name = `vc-${Math.floor(rand() * 30)}`;
      const action = rand();
      if (action < 0.4) t.backend.put("ns", name, Phase.SUSPENDED);
      else if (action < 0.7) t.backend.remove("ns", name);
      else if (action < 0.8) t.backend.breakStreams();
      else if (action < 0.85) t.backend.expireHistory();
      else t.backend.heartbeat();
      if (round % 5 === 0) t.backend.heartbeat();
      await new Promise((r) => setImmediate(r));
    }
    t.backend.heartbeat();
    await until(() => view(informer.list()).join() === view(t.backend.sorted()).join(), 2000);
    informer.stop();
  });
});
