import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  Annotations,
  ErrorDetailSchema,
  ResponseHeaders,
  type VCluster,
  VClusterSchema,
  VClusterService,
  WatchEventType,
  WatchVClusterRequestSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, testServer, transportFor } from "./support.js";

describe("watch", () => {
  it("sends every codec the same live events (binary streams share one encoding of each), without secrets", async () => {
    const server = await testServer();
    const transports = {
      grpc: transportFor(server, "grpc"),
      "grpc-web": transportFor(server, "grpc-web"),
      "connect binary": transportFor(server, "connect"),
      "connect json": createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false }),
    };
    const abort = new AbortController();
    const readiness = new Map<string, () => void>();
    const received = Object.entries(transports).map(async ([codec, transport]) => {
      const seen: { type: WatchEventType; vcluster: VCluster | undefined }[] = [];
      const stream = createClient(VClusterService, transport).watchVCluster({}, { signal: abort.signal });
      let ready = false;
      for await (const event of stream) {
        if (event.type === WatchEventType.UNSPECIFIED) {
          if (!ready) readiness.get(codec)?.();
          ready = true;
          continue;
        }
        seen.push({ type: event.type, vcluster: event.vcluster });
        if (event.type === WatchEventType.DELETED) return { codec, seen };
      }
      return { codec, seen };
    });
    await Promise.all(
      Object.keys(transports).map((codec) => new Promise<void>((resolve) => readiness.set(codec, resolve))),
    );
    const c = clientsFor(transportFor(server, "grpc"));
    await c.vc.createVCluster({ name: "shared", labels: { app: "x" } });
    await server.api.idle();
    await c.vc.deleteVCluster({ name: "shared", force: true });
    await server.api.idle();
    const results = await Promise.all(received);
    abort.abort();
    const [reference, ...others] = results;
    if (!reference) throw new Error("no watch");
    expect(reference.seen.map((e) => e.type)).toContain(WatchEventType.ADDED);
    expect(reference.seen.at(-1)?.type).toBe(WatchEventType.DELETED);
    for (const { vcluster } of reference.seen) {
      expect(vcluster?.name).toBe("shared");
      expect(vcluster?.labels).toEqual({ app: "x" });
      expect(vcluster?.status?.kubeconfig ?? "").toBe("");
    }
    for (const other of others)
      expect({ codec: other.codec, seen: other.seen }).toEqual({ codec: other.codec, seen: reference.seen });
  });

  it("sends current state, live changes, DELETED with the final object, and resumes from a version", async () => {
    const server = await testServer({ heartbeatIntervalMs: 20 });
    const c = clientsFor(transportFor(server, "grpc"));
    await c.vc.createVCluster({ name: "w-a", labels: { app: "x" } });
    await server.api.idle();
    const abort = new AbortController();
    const stream = c.vc.watchVCluster({ labelSelector: "app=x" }, { signal: abort.signal });
    const it = stream[Symbol.asyncIterator]();
    const first = (await it.next()).value;
    expect(first.type).toBe(WatchEventType.ADDED);
    expect(first.vcluster.name).toBe("w-a");
    const listedVersion = first.vcluster.annotations[Annotations.resourceVersion];
    await c.vc.createVCluster({ name: "w-b", labels: { app: "y" } });
    await c.vc.deleteVCluster({ name: "w-a", force: true });
    await server.api.idle();
    const types: WatchEventType[] = [];
    let heartbeats = 0;
    for (;;) {
      const ev = (await it.next()).value;
      if (ev.type === WatchEventType.UNSPECIFIED) {
        heartbeats += 1;
        expect(Object.keys(ev.vcluster.annotations)).toEqual([Annotations.resourceVersion]);
        if (types.includes(WatchEventType.DELETED)) break;
        continue;
      }
      expect(ev.vcluster.name).toBe("w-a");
      expect(ev.vcluster.status.kubeconfig).toBe("");
      types.push(ev.type);
    }
    expect(types.at(-1)).toBe(WatchEventType.DELETED);
    expect(heartbeats).toBeGreaterThan(0);
    abort.abort();

    const replay = c.vc.watchVCluster({ resourceVersion: listedVersion, labelSelector: "app=x" });
    const got: WatchEventType[] = [];
    for await (const ev of replay) {
      if (ev.type === WatchEventType.UNSPECIFIED) break;
      got.push(ev.type);
    }
    expect(got).toEqual(types);
  });

  it("ends the initial state with a bookmark at once, and stamps list pages with their read version", async () => {
    // A long heartbeat interval: the bookmark seen here can only be the initial-state end.
    const server = await testServer({ heartbeatIntervalMs: 60_000 });
    const c = clientsFor(transportFor(server, "connect"));
    await c.vc.createVCluster({ name: "b-1" });
    await c.vc.createVCluster({ name: "b-2" });
    await server.api.idle();
    let listVersion = "";
    await c.vc.listVClusters({}, { onHeader: (h) => (listVersion = h.get(ResponseHeaders.resourceVersion) ?? "") });
    expect(listVersion).toBe(String(await server.store.currentVersion()));

    const abort = new AbortController();
    const it = c.vc.watchVCluster({}, { signal: abort.signal })[Symbol.asyncIterator]();
    const names = [(await it.next()).value.vcluster.name, (await it.next()).value.vcluster.name];
    expect(names.sort()).toEqual(["b-1", "b-2"]);
    const bookmark = (await it.next()).value;
    expect(bookmark.type).toBe(WatchEventType.UNSPECIFIED);
    expect(bookmark.vcluster.annotations[Annotations.resourceVersion]).toBe(listVersion);
    abort.abort();
  });

  it("rejects expired and future versions", async () => {
    const server = await testServer({ historyLimit: 3 });
    const c = clientsFor(transportFor(server, "connect"));
    for (let i = 0; i < 4; i++) await c.vc.createVCluster({ name: `h-${i}` });
    await server.api.idle();
    const read = async (resourceVersion: string) => {
      try {
        for await (const _ of c.vc.watchVCluster({ resourceVersion })) break;
      } catch (e) {
        return ConnectError.from(e);
      }
      return undefined;
    };
    const expired = await read("1");
    expect(expired?.code).toBe(Code.OutOfRange);
    expect(expired?.findDetails(ErrorDetailSchema)[0]?.reason).toBe("RESOURCE_VERSION_EXPIRED");
    expect((await read("999999"))?.code).toBe(Code.InvalidArgument);
  });

  it("ends a watcher that overflows its queue without blocking the others", async () => {
    const server = await testServer({ watchQueueLimit: 3, heartbeatIntervalMs: 20 });
    const c = clientsFor(transportFor(server, "connect"));
    const slow = c.vc.watchVCluster({})[Symbol.asyncIterator]();
    const healthy = c.vc.watchVCluster({ namespace: "quiet" })[Symbol.asyncIterator]();
    await healthy.next(); // first heartbeat: registered
    // Commit many changes in one transaction: they reach the hub at once, faster than any stream can drain.
    const { store } = server;
    const { create } = await import("@bufbuild/protobuf");
    const { VClusterSchema } = await import("@open-vcluster/api");
    await store.transaction(async (tx) => {
      for (let i = 0; i < 10; i++) {
        await tx.putVCluster(create(VClusterSchema, { id: `id-${i}`, name: `burst-${i}`, namespace: "default" }));
      }
    });
    let error: ConnectError | undefined;
    try {
      for (;;) {
        const r = await slow.next();
        if (r.done) break;
      }
    } catch (e) {
      error = ConnectError.from(e);
    }
    expect(error?.code).toBe(Code.ResourceExhausted);
    expect((await healthy.next()).value.type).toBe(WatchEventType.UNSPECIFIED);
    await healthy.return?.();
  });

  it("ends a watch whose client stopped reading once its queue overflows, without buffering the rest", async () => {
    const limit = 20;
    const server = await testServer({ watchQueueLimit: limit, heartbeatIntervalMs: 60_000 });
    const session = http2.connect(server.url);
    try {
      const body = toBinary(WatchVClusterRequestSchema, create(WatchVClusterRequestSchema, { namespace: "slow" }));
      const request = Buffer.alloc(5 + body.length);
      request.writeUInt32BE(body.length, 1);
      request.set(body, 5);
      const stream = session.request({
        ":method": "POST",
        ":path": "/vcluster.api.v1.VClusterService/WatchVCluster",
        "content-type": "application/grpc+proto",
      });
      stream.end(request);
      // The initial bookmark: the watch is registered. Then the client stops reading.
      let bytes = 0;
      let registered: (() => void) | undefined;
      const ready = new Promise<void>((resolve) => (registered = resolve));
      stream.on("data", (chunk: Buffer) => {
        if (bytes === 0) {
          stream.pause();
          registered?.();
        }
        bytes += chunk.length;
      });
      await ready;
      // 200 changes of 16 KiB each, one commit at a time: far more than the HTTP/2 window, the
      // socket's buffers and the queue limit hold.
      const changes = 200;
      for (let i = 0; i < changes; i++) {
        await server.store.transaction((tx) =>
          tx.putVCluster(
            create(VClusterSchema, {
              id: `slow-${i}`,
              name: `slow-${i}`,
              namespace: "slow",
              annotations: { payload: "x".repeat(16 * 1024) },
            }),
          ),
        );
      }
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
      stream.resume();
      const end = await trailers;
      expect(end["grpc-status"]).toBe(String(Code.ResourceExhausted));
      expect(decodeURIComponent(String(end["grpc-message"]))).toContain(`more than ${limit} events behind`);
      // What reached the client before the end: what was in flight, not the whole burst.
      expect(bytes).toBeLessThan((changes / 2) * 16 * 1024);
    } finally {
      session.destroy();
    }
  });

  it("gives watches of the same filters that started at different times each the events their own client needs", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    const relabel = async (name: string, tier: string) => {
      await c.vc.updateVCluster({ name, labels: { tier }, updateMask: { paths: ["labels"] } });
      await server.api.idle();
    };
    await c.vc.createVCluster({ name: "a", labels: { tier: "gold" } });
    await c.vc.createVCluster({ name: "b", labels: { tier: "silver" } });
    await server.api.idle();
    const abort = new AbortController();
    const watch = (request: { labelSelector: string; resourceVersion?: string }) => {
      const seen: string[] = [];
      let listedVersion = "";
      let onChange = () => {};
      const done = (async () => {
        try {
          for await (const ev of c.vc.watchVCluster(request, { signal: abort.signal })) {
            if (ev.type === WatchEventType.UNSPECIFIED) {
              listedVersion ||= ev.vcluster?.annotations[Annotations.resourceVersion] ?? "";
              seen.push("bookmark");
            } else seen.push(`${WatchEventType[ev.type]} ${ev.vcluster?.name}`);
            onChange();
          }
        } catch (error) {
          if (!abort.signal.aborted) throw error;
        }
      })();
      const until = (predicate: (seen: string[]) => boolean) =>
        new Promise<void>((resolve) => {
          onChange = () => predicate(seen) && resolve();
          onChange();
        });
      return { seen, until, done, version: () => listedVersion };
    };
    const early = watch({ labelSelector: "tier=gold" });
    await early.until((seen) => seen.includes("bookmark"));
    await relabel("b", "gold");
    await early.until((seen) => seen.includes("ADDED b"));
    const late = watch({ labelSelector: "tier=gold" });
    await late.until((seen) => seen.includes("bookmark"));
    const replay = watch({ labelSelector: "tier=gold", resourceVersion: early.version() });
    await relabel("a", "silver");
    await relabel("a", "gold");
    await c.vc.deleteVCluster({ name: "b", force: true });
    await server.api.idle();
    const last = (seen: string[]) => seen.includes("DELETED b");
    await Promise.all([early.until(last), late.until(last), replay.until(last)]);
    abort.abort();
    await Promise.all([early.done, late.done, replay.done]);
    const live = (seen: string[]) => seen.filter((e) => e !== "bookmark" && !e.startsWith("MODIFIED"));
    expect(live(early.seen)).toEqual(["ADDED a", "ADDED b", "DELETED a", "ADDED a", "DELETED b"]);
    expect(live(late.seen)).toEqual(["ADDED a", "ADDED b", "DELETED a", "ADDED a", "DELETED b"]);
    // A replay does not know what its client holds: types pass through, and an object it has not
    // sent does not go out as DELETED when it leaves.
    expect(live(replay.seen)).toEqual(["DELETED b"]);
    expect(replay.seen).toEqual(expect.arrayContaining(["MODIFIED b", "MODIFIED a"]));
  });
});
