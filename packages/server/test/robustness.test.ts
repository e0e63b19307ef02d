import { Code, ConnectError } from "@connectrpc/connect";
import { Annotations, Phase, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, createRunning, testServer, transportFor } from "./support.js";

describe("robustness", () => {
  it("lets exactly one of many concurrent mutations on one vcluster win", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    await createRunning(server, c, "hot");
    server.faults.provider.inject({ kind: "scale", mode: "slow", delayMs: 60_000, count: 100 });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        c.vc.scaleVCluster({ name: "hot", resources: { cpuRequest: `${300 + i}m` } }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(ConnectError.from(r.reason).code).toBe(Code.FailedPrecondition);
    }
    const got = (await c.vc.getVCluster({ name: "hot" })).vcluster;
    expect(got?.status?.phase).toBe(Phase.SCALING);
    expect(got?.annotations[Annotations.generation]).toBe("2");
  });

  it("shuts down gracefully: watch streams end cleanly and readyz flips", async () => {
    const server = await testServer({ heartbeatIntervalMs: 10_000 });
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "g");
    const watch = c.vc.watchVCluster({})[Symbol.asyncIterator]();
    expect((await watch.next()).value.type).toBe(WatchEventType.ADDED);
    // The bookmark that ends the initial state.
    expect((await watch.next()).value.type).toBe(WatchEventType.UNSPECIFIED);
    const closing = server.close();
    expect(server.api.isReady()).toBe(false);
    const end = await watch.next();
    expect(end.done).toBe(true);
    await closing;
  });
});
