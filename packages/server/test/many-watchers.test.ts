import { Annotations, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { type Clients, clientsFor, testServer, transportFor } from "./support.js";

/** Reads one watch stream in the background and records "<version> <type> <name>" per event. */
function follow(c: Clients, abort: AbortController) {
  const events: string[] = [];
  let newest = 0;
  let registered: () => void = () => undefined;
  const ready = new Promise<void>((r) => (registered = r));
  let waiter: { version: number; resolve: () => void } | undefined;
  const done = (async () => {
    try {
      for await (const ev of c.vc.watchVCluster({}, { signal: abort.signal })) {
        const version = Number(ev.vcluster?.annotations[Annotations.resourceVersion]);
        if (ev.type === WatchEventType.UNSPECIFIED) registered();
        else events.push(`${version} ${WatchEventType[ev.type]} ${ev.vcluster?.name}`);
        newest = Math.max(newest, version);
        if (waiter && newest >= waiter.version) waiter.resolve();
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    events,
    ready,
    done,
    reached: (version: number) =>
      newest >= version ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { version, resolve })),
  };
}

describe("many watchers", () => {
  it("delivers the same ordered events to 100 HTTP/2 watchers on one connection and 20 HTTP/1.1 ones", async () => {
    const server = await testServer({ maxWatchersPerPrincipal: 200, heartbeatIntervalMs: 60_000 });
    const h2 = clientsFor(transportFor(server, "grpc"));
    const h1 = clientsFor(transportFor(server, "connect", "1.1"));
    const abort = new AbortController();
    const watchers = [
      ...Array.from({ length: 100 }, () => follow(h2, abort)),
      ...Array.from({ length: 20 }, () => follow(h1, abort)),
    ];
    await Promise.all(watchers.map((w) => w.ready));

    // A burst: creates (each followed by its background transition to RUNNING), updates, deletes.
    await Promise.all(Array.from({ length: 10 }, (_, i) => h2.vc.createVCluster({ name: `burst-${i}` })));
    await server.api.idle();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => h1.vc.updateVCluster({ name: `burst-${i}`, labels: { round: "2" } })),
    );
    await Promise.all(Array.from({ length: 5 }, (_, i) => h2.vc.deleteVCluster({ name: `burst-${i}`, force: true })));
    await server.api.idle();
    const target = await server.store.currentVersion();
    await Promise.all(watchers.map((w) => w.reached(target)));
    abort.abort();
    await Promise.all(watchers.map((w) => w.done));

    const reference = watchers[0]?.events ?? [];
    const versions = reference.map((e) => Number(e.split(" ")[0]));
    // Every committed change, once, in commit order.
    expect(versions).toEqual(Array.from({ length: target }, (_, i) => i + 1));
    expect(reference.filter((e) => e.includes(" DELETED "))).toHaveLength(5);
    for (const w of watchers) expect(w.events).toEqual(reference);
  });
});
