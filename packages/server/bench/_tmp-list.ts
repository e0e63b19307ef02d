import { openStore } from "@open-vcluster/server";
import { namespaceOf, rareLabels, seed, tempDir } from "./fixtures.ts";
import { sample, summarize } from "./stats.ts";

const size = Number(process.argv[2] ?? 100000);
const kind = process.argv[3] ?? "sqlite";
const dir = tempDir();

import { existsSync } from "node:fs";

const file = `/tmp/ps-${size}.db`;
const fresh = !existsSync(file);
const store = await openStore(kind === "memory" ? "memory" : `sqlite:${file}`);
const t = performance.now();
if (fresh || kind === "memory") await seed(store, 0, size);
console.log("seed", (performance.now() - t).toFixed(0));
const mid = (await store.listVClusters({ labels: rareLabels }, "name", undefined, Math.floor(size / 200))).items.at(
  -1,
)!;
const cursor = { namespace: mid.namespace, name: mid.name, createTimeMs: 0, id: mid.id };
const midAll = (await store.listVClusters({}, "name", undefined, Math.floor(size / 2))).items.at(-1)!;
const cursorAll = { namespace: midAll.namespace, name: midAll.name, createTimeMs: 0, id: midAll.id };
for (const [label, f, c] of [
  ["none first", {}, undefined],
  ["none deep", {}, cursorAll],
  ["ns first", { namespace: namespaceOf(7) }, undefined],
  ["ns deep", { namespace: namespaceOf(7) }, cursorAll],
  ["sel first", { labels: rareLabels }, undefined],
  ["sel deep", { labels: rareLabels }, cursor],
] as const) {
  const r = await store.listVClusters(f as never, "name", c as never, 50);
  const d = summarize(await sample(() => store.listVClusters(f as never, "name", c as never, 50), { budgetMs: 500 }));
  console.log(label, "p50", d.p50.toFixed(2), "total", r.total, "items", r.items.length);
}
await store.close();
dir.remove();
