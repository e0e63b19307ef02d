import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VCluster } from "@open-vcluster/api";
import { isResourceVersionExpired, resourceVersionOf } from "@open-vcluster/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";
import { freePort, SpawnedServer } from "./support/spawned-server.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const dir = mkdtempSync(join(tmpdir(), "ovc-watch-"));
let server: SpawnedServer;
let proxy: TcpProxy;

beforeAll(async () => {
  server = new SpawnedServer(await freePort(), [
    "--store",
    `sqlite:${join(dir, "state.db")}`,
    "--time-scale",
    "0",
    "--heartbeat-interval",
    "200",
    "--history-limit",
    "15",
  ]);
  await server.start();
  proxy = new TcpProxy(server.port);
  await proxy.start();
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const fingerprint = (items: VCluster[]) =>
  items.map((v) => `${v.namespace}/${v.name}@${resourceVersionOf(v)}:${v.status?.phase}`).sort();

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached in time");
}

describe("watch and listWatch survive a hostile network against the real server", () => {
  it("converge to the server's exact state through cuts, crashes and history loss", async () => {
    const direct = createClient({ baseUrl: server.url, retry: { maxAttempts: 8 } });
    const watched = createClient({
      baseUrl: proxy.url,
      watch: { heartbeatTimeoutMs: 1500, backoff: { initialMs: 50, maxMs: 400 } },
    });
    const informer = watched.listWatch({ namespace: "resilience", listBackoff: { initialMs: 50, maxMs: 400 } });
    const rawWatch = watched.watch({ namespace: "resilience" });
    const raw = new Map<string, VCluster>();
    // A bare watch cannot outlive lost history: when it resumes too late it must end with the
    // expired-version error (the cue to re-list), never silently. Whether it resumes too late
    // depends on timing (a reconnect may slip past the proxy's refusal), so only its ending
    // before the test closes it is checked.
    let closedByTest = false;
    const rawEnd = (async () => {
      for await (const event of rawWatch) {
        if (event.type === 3) raw.delete(event.vcluster.id);
        else raw.set(event.vcluster.id, event.vcluster);
      }
    })().then(
      () => (closedByTest ? undefined : new Error("the bare watch ended silently")),
      (error: unknown) => error,
    );
    await informer.waitForSync();
    let n = 0;
    const churn = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const name = `vc-${n++ % 12}`;
        const existing = await direct.vclusters.getVCluster({ name, namespace: "resilience" }).catch(() => undefined);
        if (existing) await direct.vclusters.deleteVCluster({ name, namespace: "resilience", force: true });
        else await direct.vclusters.createVCluster({ name, namespace: "resilience" });
      }
    };
    const serverState = async () =>
      fingerprint(await direct.paginateVClusters({ namespace: "resilience" }).toArray({ limit: 1000 }));

    for (let round = 0; round < 3; round++) {
      await churn(5);
      proxy.cutAll(); // connections cut mid-stream
      await churn(3);
      await server.kill(); // crash
      await server.start();
      // Long outage for the watchers only: more changes than the history keeps.
      proxy.refusing = true;
      proxy.cutAll();
      await churn(20);
      proxy.refusing = false;
    }
    await eventually(async () => fingerprint(informer.list()).join() === (await serverState()).join());
    await eventually(async () => (await serverState()).length === informer.list().length);
    expect(fingerprint(informer.list())).toEqual(await serverState());
    expect(informer.hasSynced()).toBe(true);
    informer.stop();
    closedByTest = true;
    rawWatch.close();
    const rawError = await rawEnd;
    if (rawError !== undefined) {
      expect(isResourceVersionExpired(rawError), `the bare watch ended with ${String(rawError)}`).toBe(true);
    }
  }, 300_000);
});
