import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { METHODS, malformedCases } from "./malformations.js";
import { clientsFor, createRunning, testServer, transportFor } from "./support.js";
import { closeWireSessions, send } from "./wire.js";

afterAll(closeWireSessions);

const cases = malformedCases();

describe("a battery of malformed requests", () => {
  it("covers every RPC on every protocol and codec with at least 300 requests", () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    // The 15 RPCs of the contract plus ListVClusterEvents and ListVClusterUsage.
    expect(new Set(cases.map((c) => c.method.name)).size).toBe(17);
    expect(new Set(cases.map((c) => c.method.name))).toEqual(new Set(METHODS.map((m) => m.name)));
    expect(new Set(cases.map((c) => c.protocol))).toEqual(
      new Set(["connect-json", "connect-proto", "grpc", "grpc-web"]),
    );
  });

  // On the SQLite store, the bin's default; decoding and validation come before any store access.
  it("answers each with its documented code and changes nothing", { timeout: 300_000 }, async () => {
    const server = await testServer({ store: "sqlite::memory:" });
    const c = clientsFor(transportFor(server, "grpc"));
    await createRunning(server, c, "kept", { labels: { team: "a" } });
    await createRunning(server, c, "other", { namespace: "team-b" });
    await c.vc.snapshotVCluster({ name: "kept", snapshotName: "before" });
    await server.api.idle();
    const everything = async () => ({
      vclusters: (await c.vc.listVClusters({ pageSize: 1000 })).vclusters,
      snapshots: (await c.snap.listSnapshots({ pageSize: 1000 })).snapshots,
      version: server.store.currentVersion(),
    });
    const before = await everything();
    expect(before.vclusters).toHaveLength(2);
    expect(before.snapshots).toHaveLength(1);

    const wrong: string[] = [];
    for (const malformed of cases) {
      let answer: Awaited<ReturnType<typeof send>>;
      try {
        // A request taken for a valid watch would stream on: the ceiling ends it.
        answer = await send(server.url, malformed.protocol, malformed.request, 10_000);
      } catch (error) {
        wrong.push(`${malformed.name}: no answer (${String(error)})`);
        continue;
      }
      const reason = answer.detail?.reason ?? "";
      if (answer.code !== malformed.code || !malformed.reasons.includes(reason)) {
        wrong.push(
          `${malformed.name}: got ${answer.code === undefined ? `HTTP ${answer.status}` : Code[answer.code]} ${reason} "${answer.message}"`,
        );
      }
    }
    expect(wrong).toEqual([]);

    // Still up, still serving, and nothing changed.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await everything()).toEqual(before);
  });
});
