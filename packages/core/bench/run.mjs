// Throughput report for the hot paths (not a test: numbers depend on the machine).
import { create } from "@bufbuild/protobuf";
import { Annotations, Phase, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { Paginated, VClusterCacheStore } from "../dist/index.js";

function vcluster(i, version) {
  return create(VClusterSchema, {
    id: `id-${i}`,
    name: `vc-${i}`,
    namespace: "bench",
    status: { phase: Phase.RUNNING },
    annotations: { [Annotations.resourceVersion]: String(version) },
  });
}

function time(label, count, fn) {
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  console.log(`${label.padEnd(44)} ${String(Math.round((count / ms) * 1000)).padStart(10)} /s  (${ms.toFixed(1)} ms)`);
}

const n = 100_000;
const store = new VClusterCacheStore();
const items = Array.from({ length: n }, (_, i) => vcluster(i, i + 1));
time("informer store: initial replace", n, () => store.replace(items));
let version = n;
time("informer store: apply MODIFIED events", n, () => {
  for (let i = 0; i < n; i++) {
    version++;
    store.apply({ type: WatchEventType.MODIFIED, vcluster: vcluster(i, version), resourceVersion: String(version) });
  }
});
time("informer store: drop stale replayed events", n, () => {
  for (let i = 0; i < n; i++) {
    store.apply({ type: WatchEventType.MODIFIED, vcluster: items[i], resourceVersion: String(i + 1) });
  }
});
const changed = items.map((v, i) => (i % 10 === 0 ? vcluster(i, version + i + 1) : store.getById(v.id)));
time("informer store: re-list diff (10% changed)", n, () => store.replace(changed));

const pageSize = 1000;
const pages = Array.from({ length: 100 }, (_, p) => ({
  items: items.slice(p * pageSize, (p + 1) * pageSize),
  nextPageToken: p < 99 ? `t${p + 1}` : "",
  totalCount: n,
}));
const paginated = new Paginated(async (token) => pages[token === "" ? 0 : Number(token.slice(1))]);
const start = performance.now();
let count = 0;
for await (const _ of paginated) count++;
const ms = performance.now() - start;
console.log(
  `${"paginate: items through the iterator".padEnd(44)} ${String(Math.round((count / ms) * 1000)).padStart(10)} /s  (${ms.toFixed(1)} ms)`,
);
