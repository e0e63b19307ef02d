import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Phase, SnapshotSchema, SnapshotStatus, VClusterSchema } from "@open-vcluster/api";
import { parseLabelSelector } from "@open-vcluster/core";
import { afterEach, describe, expect, it } from "vitest";
import { compileSelector } from "../service/selector.js";
import { openStore, type Store } from "./index.js";

// Labels with every case that matters: key present with another value, present and empty,
// absent; a prefixed key; values that look like numbers.
const LABELS: Record<string, string>[] = [
  { env: "prod", tier: "web" },
  { env: "dev", tier: "api", "team.example.com/owner": "alice" },
  { env: "", tier: "web" },
  { tier: "db", legacy: "true" },
  { env: "prod", "team.example.com/owner": "bob", version: "10" },
  {},
];

const SELECTORS = [
  "env=prod",
  "env==dev",
  "env!=prod",
  "env in (prod,dev)",
  "env notin (prod)",
  "legacy",
  "!legacy",
  "env=",
  "env!=",
  "team.example.com/owner=alice",
  "team.example.com/owner notin (alice)",
  "env=prod,tier=web",
  "tier in (web,db),!legacy",
  "version=10",
  "missing!=x",
  "missing in (x)",
];

let stores: Store[] = [];
afterEach(async () => {
  for (const store of stores) await store.close();
  stores = [];
});

async function seeded(spec: "memory" | "sqlite::memory:"): Promise<Store> {
  const store = openStore(spec);
  stores.push(store);
  await store.transaction(async (tx) => {
    for (const [i, labels] of LABELS.entries()) {
      await tx.putVCluster(
        create(VClusterSchema, {
          id: `vc-${i}`,
          name: `vc-${i}`,
          namespace: "default",
          labels,
          createTime: timestampFromMs(1_000 + i),
          status: { phase: Phase.RUNNING },
        }),
      );
      await tx.putSnapshot(
        create(SnapshotSchema, {
          id: `snap-${i}`,
          name: `snap-${i}`,
          namespace: "default",
          vclusterId: `vc-${i}`,
          labels,
          status: SnapshotStatus.READY,
          createTime: timestampFromMs(1_000 + i),
        }),
      );
    }
  });
  return store;
}

describe.each(["memory", "sqlite::memory:"] as const)("label selectors in the %s store", (spec) => {
  it.each(SELECTORS)("%s selects exactly what the Kubernetes semantics select", async (text) => {
    const store = await seeded(spec);
    const selector = parseLabelSelector(text);
    const expected = LABELS.flatMap((labels, i) => (selector.matches(labels) ? [i] : []));
    const labels = compileSelector(text, "label_selector");
    // Page size 2 walks several pages, so paging and counting are checked together.
    const vclusters: string[] = [];
    let after: Parameters<Store["listVClusters"]>[2];
    for (;;) {
      const page = await store.listVClusters({ labels }, "create_time", after, 2);
      expect(page.total).toBe(expected.length);
      vclusters.push(...page.items.map((v) => v.id));
      const last = page.items.at(-1);
      if (!page.hasMore || !last) break;
      after = {
        namespace: last.namespace,
        name: last.name,
        createTimeMs: 1_000 + Number(last.id.slice(3)),
        id: last.id,
      };
    }
    expect(vclusters).toEqual(expected.map((i) => `vc-${i}`));
    const snapshots = await store.listSnapshots({ labels }, undefined, 100);
    expect(snapshots.items.map((s) => s.id).sort()).toEqual(expected.map((i) => `snap-${i}`).sort());
    expect(snapshots.total).toBe(expected.length);
  });
});
