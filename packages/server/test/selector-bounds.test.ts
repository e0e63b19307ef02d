import { Code } from "@connectrpc/connect";
import { WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { MAX_LABEL_SELECTOR_LENGTH, MAX_LABEL_SELECTOR_REQUIREMENTS } from "../src/validation/request-fields.js";
import { type Clients, clientsFor, createRunning, expectError, testServer, transportFor } from "./support.js";

/** `team=a` and then requirements on keys nothing carries, so the selector keeps matching team a. */
function selector(requirements: number): string {
  const parts = ["team=a"];
  const operators = [(k: string) => `${k}!=x`, (k: string) => `!${k}`, (k: string) => `${k} notin (x,y)`];
  for (let i = 1; i < requirements; i++) parts.push((operators[i % 3] as (k: string) => string)(`absent-${i}`));
  return parts.join(",");
}

const STORES = { memory: "memory", sqlite: "sqlite::memory:" } as const;

async function seeded(store: keyof typeof STORES): Promise<Clients> {
  const server = await testServer({ store: STORES[store] });
  const c = clientsFor(transportFor(server, "grpc"));
  await createRunning(server, c, "a1", { labels: { team: "a" } });
  await createRunning(server, c, "b1", { labels: { team: "b" } });
  await c.vc.snapshotVCluster({ name: "a1", snapshotName: "sa", labels: { team: "a" } });
  await c.vc.snapshotVCluster({ name: "b1", snapshotName: "sb", labels: { team: "b" } });
  await server.api.idle();
  return c;
}

async function firstWatchNames(c: Clients, labelSelector: string): Promise<string[]> {
  const abort = new AbortController();
  const names: string[] = [];
  try {
    for await (const event of c.vc.watchVCluster({ labelSelector }, { signal: abort.signal })) {
      if (event.type === WatchEventType.UNSPECIFIED) break; // the bookmark that ends the initial state
      names.push(event.vcluster?.name ?? "");
    }
  } finally {
    abort.abort();
  }
  return names;
}

describe("label selector bounds", () => {
  it("builds the selectors it claims", () => {
    expect(selector(MAX_LABEL_SELECTOR_REQUIREMENTS).split(",").length).toBeGreaterThanOrEqual(
      MAX_LABEL_SELECTOR_REQUIREMENTS,
    );
    expect(selector(MAX_LABEL_SELECTOR_REQUIREMENTS).length).toBeLessThanOrEqual(MAX_LABEL_SELECTOR_LENGTH);
  });

  for (const store of Object.keys(STORES) as (keyof typeof STORES)[]) {
    it(`evaluates a selector of ${MAX_LABEL_SELECTOR_REQUIREMENTS} requirements on List, Watch and ListSnapshots (${store})`, async () => {
      const c = await seeded(store);
      const text = selector(MAX_LABEL_SELECTOR_REQUIREMENTS);
      const list = await c.vc.listVClusters({ labelSelector: text });
      expect(list.vclusters.map((v) => v.name)).toEqual(["a1"]);
      expect(list.totalCount).toBe(1);
      expect(await firstWatchNames(c, text)).toEqual(["a1"]);
      const snapshots = await c.snap.listSnapshots({ labelSelector: text });
      expect(snapshots.snapshots.map((s) => s.name)).toEqual(["sa"]);
    });

    it(`refuses larger selectors with INVALID_ARGUMENT naming label_selector (${store})`, async () => {
      const c = await seeded(store);
      const tooMany = selector(MAX_LABEL_SELECTOR_REQUIREMENTS + 1);
      // 999 requirements once made SQLite answer "Expression tree is too large" as INTERNAL.
      const far = `team=a,${Array.from({ length: 998 }, (_, i) => `k${i}!=x`).join(",")}`;
      const tooLong = `team in (${Array.from({ length: 1000 }, (_, i) => `v${i}`).join(",")})`;
      expect(tooLong.length).toBeGreaterThan(MAX_LABEL_SELECTOR_LENGTH);
      for (const [labelSelector, problem] of [
        [tooMany, `must have at most ${MAX_LABEL_SELECTOR_REQUIREMENTS} requirements`],
        [far, "must be at most"],
        [tooLong, `must be at most ${MAX_LABEL_SELECTOR_LENGTH} characters`],
      ] as const) {
        for (const call of [
          () => c.vc.listVClusters({ labelSelector }),
          () => firstWatchNames(c, labelSelector),
          () => c.snap.listSnapshots({ labelSelector }),
        ]) {
          const refused = await expectError(call);
          expect(refused.error.code).toBe(Code.InvalidArgument);
          expect(refused.detail?.field).toBe("label_selector");
          expect(refused.detail?.violations[0]?.description).toContain(problem);
        }
      }
    });
  }
});
