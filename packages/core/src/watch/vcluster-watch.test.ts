import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  Annotations,
  VClusterSchema,
  VClusterService,
  WatchEventType,
  type WatchVClusterResponse,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { collect, until } from "../../test/drive.js";
import { apiError, FakeVClusterBackend, Phase } from "../../test/fake-vcluster-backend.js";
import { isResourceVersionExpired } from "../errors/guards.js";
import { ManualClock } from "../time/manual-clock.js";
import { VClusterWatch, type WatchOptions } from "./vcluster-watch.js";
import type { ConnectionStatus } from "./watch-types.js";

function setup(options: WatchOptions = {}) {
  const clock = new ManualClock();
  const backend = new FakeVClusterBackend();
  const client = createClient(VClusterService, createRouterTransport(backend.routes));
  const statuses: ConnectionStatus[] = [];
  const watch = new VClusterWatch(
    client,
    {},
    { clock, random: () => 0, onStatus: (s) => statuses.push(s), heartbeatTimeoutMs: 15_000, ...options },
  );
  return { clock, backend, watch, statuses };
}

const summary = (e: { type: WatchEventType; vcluster: { name: string }; resourceVersion: string }) =>
  `${WatchEventType[e.type]} ${e.vcluster.name}@${e.resourceVersion}`;

describe("VClusterWatch", () => {
  it("delivers the initial state, then changes, and resumes after a disconnect without repeats", async () => {
    const t = setup();
    t.backend.put("default", "a", Phase.CREATING);
    const events = collect(t.watch);
    await until(() => events.items.length === 1);
    t.backend.heartbeat();
    t.backend.put("default", "a", Phase.RUNNING);
    await until(() => events.items.length === 2);
    t.backend.breakStreams();
    await until(() => t.backend.openedStreams === 2);
    t.backend.put("default", "b", Phase.CREATING);
    t.backend.remove("default", "a");
    await until(() => events.items.length === 4);
    expect(events.items.map(summary)).toEqual(["ADDED a@1", "MODIFIED a@2", "ADDED b@3", "DELETED a@4"]);
    expect(t.backend.watchRequests).toEqual(["", "2"]);
    expect(t.statuses).toEqual(["connecting", "connected", "reconnecting", "connected"]);
    t.watch.close();
    await events.finished;
    expect(events.error).toBeUndefined();
    expect(t.watch.status).toBe("closed");
  });

  it("resumes from the initial-state bookmark, never from a newer object of that state", async () => {
    // The server's bookmark says what it has sent: an object of the initial state may be newer
    // (read after the bookmark's version), and changes of other objects between the two are
    // still to come. Running the resume point ahead of the bookmark would skip them.
    const message = (type: WatchEventType, name: string, version: number): WatchVClusterResponse =>
      create(WatchVClusterResponseSchema, {
        type,
        vcluster: create(VClusterSchema, {
          id: name,
          name,
          annotations: { [Annotations.resourceVersion]: String(version) },
        }),
      });
    const requests: string[] = [];
    const client = createClient(
      VClusterService,
      createRouterTransport((router) =>
        router.service(VClusterService, {
          async *watchVCluster(req, ctx) {
            requests.push(req.resourceVersion);
            if (requests.length > 1) {
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
              return;
            }
            yield message(WatchEventType.ADDED, "a", 10);
            yield message(WatchEventType.ADDED, "b", 5);
            yield message(WatchEventType.UNSPECIFIED, "", 7);
            yield message(WatchEventType.MODIFIED, "b", 8);
            throw new ConnectError("connection reset", Code.Unavailable);
          },
        }),
      ),
    );
    const clock = new ManualClock();
    const watch = new VClusterWatch(client, {}, { clock, random: () => 0 });
    const events = collect(watch);
    await until(() => requests.length === 2);
    expect(events.items.map(summary)).toEqual(["ADDED a@10", "ADDED b@5", "MODIFIED b@8"]);
    expect(requests).toEqual(["", "8"]);
    watch.close();
    await events.finished;
  });

  it("drops replayed events at or below the last version it delivered", async () => {
    const t = setup({ resourceVersion: "2" });
    t.backend.put("default", "a", Phase.CREATING);
    t.backend.put("default", "a", Phase.RUNNING);
    t.backend.put("default", "a", Phase.SUSPENDED);
    const events = collect(t.watch);
    await until(() => events.items.length === 1);
    expect(events.items.map(summary)).toEqual(["MODIFIED a@3"]);
    t.watch.close();
    await events.finished;
  });

  it("replaces a stream whose heartbeats stopped", async () => {
    const t = setup({ resourceVersion: "0" });
    const events = collect(t.watch);
    await until(() => t.backend.openedStreams === 1);
    await t.clock.advance(14_999);
    expect(t.backend.openedStreams).toBe(1);
    t.backend.heartbeat();
    await until(() => t.watch.status === "connected");
    await t.clock.advance(14_999);
    expect(t.backend.openedStreams).toBe(1);
    await t.clock.advance(1);
    await until(() => t.backend.openedStreams === 2);
    expect(t.statuses).toContain("reconnecting");
    t.watch.close();
    await events.finished;
  });

  it("backs off with growing full-jitter delays between failed reconnects", async () => {
    const t = setup({ random: () => 0.5, resourceVersion: "0" });
    t.backend.watchOpenFailures = [
      new ConnectError("down", Code.Internal),
      new ConnectError("down", Code.Internal),
      new ConnectError("down", Code.Internal),
    ];
    const events = collect(t.watch);
    await until(() => t.backend.openedStreams === 1);
    await t.clock.advance(399);
    expect(t.backend.openedStreams).toBe(1);
    await t.clock.advance(1);
    await until(() => t.backend.openedStreams === 2);
    await t.clock.advance(799);
    expect(t.backend.openedStreams).toBe(2);
    await t.clock.advance(1);
    await until(() => t.backend.openedStreams === 3);
    t.watch.close();
    await events.finished;
  });

  it.each([[Code.Unauthenticated], [Code.PermissionDenied], [Code.InvalidArgument]])(
    "ends with the error on a permanent failure (code %i)",
    async (code) => {
      const t = setup();
      t.backend.watchOpenFailures = [new ConnectError("no", code)];
      const events = collect(t.watch);
      await events.finished;
      expect((events.error as ConnectError).code).toBe(code);
      expect(t.backend.openedStreams).toBe(1);
    },
  );

  it("ends with RESOURCE_VERSION_EXPIRED so the caller can re-list", async () => {
    const t = setup({ resourceVersion: "1" });
    t.backend.put("default", "a", Phase.CREATING);
    t.backend.put("default", "a", Phase.RUNNING);
    t.backend.expireHistory();
    const events = collect(t.watch);
    await events.finished;
    expect(isResourceVersionExpired(events.error)).toBe(true);
  });

  it("keeps reconnecting when the server ends the stream cleanly", async () => {
    const t = setup({ resourceVersion: "0" });
    t.backend.watchOpenFailures = [apiError(Code.Unavailable, "UNAVAILABLE", "shutting down")];
    const events = collect(t.watch);
    await until(() => t.backend.openedStreams === 2);
    expect(events.done).toBe(false);
    t.watch.close();
    await events.finished;
  });

  it("rejects with the abort reason when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const t = setup({ signal: controller.signal, resourceVersion: "0" });
    const events = collect(t.watch);
    await until(() => t.backend.openedStreams === 1);
    controller.abort(new Error("bye"));
    await events.finished;
    expect((events.error as Error).message).toBe("bye");
  });
});
