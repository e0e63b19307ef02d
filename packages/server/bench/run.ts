/**
 * Performance benchmark of the built server (run `pnpm bench`; it builds first). Speed and
 * memory targets live here, never in timed tests. Prints Markdown tables.
 *
 *   --quick (or BENCH_QUICK=1)  skip the 100 000-vcluster collections
 */
import { availableParallelism } from "node:os";
import { benchBundle } from "./bundle.ts";
import { benchCreate, type CreateResult } from "./create-throughput.ts";
import { stopPostgres } from "./fixtures.ts";
import { benchListAtSize, FILTERS, PAGE_SIZES, POSITIONS, type SizeResult, type StoreKind } from "./list-pages.ts";
import { benchReplicaWatch } from "./replica-watch.ts";
import { mib, ms, table } from "./stats.ts";
import { benchUnary } from "./unary.ts";
import { benchFanout, type FanoutResult } from "./watch-fanout.ts";

const quick = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const SIZES = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const STORES: readonly StoreKind[] = ["memory", "sqlite", "postgres"];

const sizeLabel = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
const ratio = (a: number, b: number) => `${(a / Math.max(b, 0.001)).toFixed(1)}×`;
const log = (text: string) => process.stderr.write(`${text}\n`);

async function listSection(): Promise<void> {
  const results = new Map<string, SizeResult>();
  for (const store of STORES) {
    for (const size of SIZES) {
      log(`list: ${store} store, ${size} vclusters…`);
      results.set(`${store}/${size}`, await benchListAtSize(store, size));
    }
  }
  const at = (store: StoreKind, size: number) => {
    const result = results.get(`${store}/${size}`);
    if (result === undefined) throw new Error(`missing result ${store}/${size}`);
    return result;
  };
  const smallest = SIZES[0] ?? 0;
  const largest = SIZES.at(-1) ?? 0;

  const rpcRows: string[][] = [];
  for (const store of STORES) {
    for (const filter of FILTERS) {
      for (const pageSize of PAGE_SIZES) {
        for (const position of POSITIONS) {
          const pick = (size: number) => {
            const found = at(store, size).rpc.find(
              (r) => r.filter === filter && r.pageSize === pageSize && r.position === position,
            );
            if (found === undefined) throw new Error("missing rpc result");
            return found;
          };
          rpcRows.push([
            store,
            filter,
            String(pageSize),
            position,
            ...SIZES.map((size) => `${ms(pick(size).latency.p50)} / ${ms(pick(size).latency.p95)}`),
            ratio(pick(largest).latency.p50, pick(smallest).latency.p50),
          ]);
        }
      }
    }
  }
  console.log(
    `\n### ListVClusters over Connect HTTP/1.1 (binary), order by name — latency ms, p50 / p95\n` +
      `filters: namespace = 1 of 50 namespaces (2%), selector \`tier=gold\` (1%); deep = middle of the iteration\n`,
  );
  console.log(
    table(
      [
        "store",
        "filter",
        "page",
        "position",
        ...SIZES.map(sizeLabel),
        `p50 ${sizeLabel(largest)}/${sizeLabel(smallest)}`,
      ],
      rpcRows,
    ),
  );

  const rawRows: string[][] = [];
  for (const store of STORES) {
    for (const filter of FILTERS) {
      for (const position of POSITIONS) {
        const pick = (size: number) => {
          const found = at(store, size).raw.find((r) => r.filter === filter && r.position === position);
          if (found === undefined) throw new Error("missing store result");
          return found;
        };
        const pageOnly = (size: number) => Math.max(0, pick(size).pageAndCount.p50 - pick(size).countOnly.p50);
        rawRows.push([
          store,
          filter,
          position,
          ...SIZES.map((size) => `${ms(pick(size).pageAndCount.p50)} / ${ms(pick(size).countOnly.p50)}`),
          ms(pageOnly(largest)),
          ms(pageOnly(smallest)),
        ]);
      }
    }
  }
  console.log(
    `\n### Store only (no RPC), page_size 50 — p50 ms: page with total_count / total_count alone (limit 0)\n` +
      `the difference is what the page itself costs; counting is O(matching rows) by design\n`,
  );
  console.log(
    table(
      [
        "store",
        "filter",
        "position",
        ...SIZES.map(sizeLabel),
        `page only ${sizeLabel(largest)}`,
        `page only ${sizeLabel(smallest)}`,
      ],
      rawRows,
    ),
  );

  const memoryRows = STORES.flatMap((store) =>
    SIZES.map((size) => {
      const r = at(store, size);
      return [
        store,
        String(size),
        ms(r.seedMs),
        mib(r.heapDelta),
        mib(r.rssDelta),
        store === "memory" ? String(Math.round(r.heapDelta / size)) : "-",
      ];
    }),
  );
  console.log(`\n### Seeding and memory (process after seeding, after GC)\n`);
  console.log(table(["store", "vclusters", "seed ms", "heap Δ MiB", "RSS Δ MiB", "heap B/vcluster"], memoryRows));
}

async function createSection(): Promise<void> {
  const results: CreateResult[] = [];
  for (const store of STORES) {
    for (const wire of ["connect-h1", "grpc-h2"] as const) {
      for (const concurrency of [1, 16]) {
        log(`create: ${store} store, ${wire}, concurrency ${concurrency}…`);
        results.push(await benchCreate(store, wire, concurrency, 2000));
      }
    }
  }
  console.log(
    `\n### CreateVCluster throughput (timeScale 0; sqlite synchronous=FULL; 2 s per row)\n` +
      `latency is per call; settle = time for background provisioning to finish after the last call\n`,
  );
  console.log(
    table(
      ["store", "protocol", "concurrency", "creates/s", "p50 ms", "p95 ms", "settle ms"],
      results.map((r) => [
        r.store,
        r.wire === "grpc-h2" ? "gRPC HTTP/2" : "Connect HTTP/1.1",
        String(r.concurrency),
        r.perSecond.toFixed(0),
        ms(r.latency.p50),
        ms(r.latency.p95),
        ms(r.settleMs),
      ]),
    ),
  );
}

async function watchSection(): Promise<void> {
  const results: FanoutResult[] = [];
  for (const store of STORES) {
    log(`watch: ${store} store, 100 watchers, 1000 changes…`);
    results.push(await benchFanout(store, 100, 1000));
  }
  console.log(
    `\n### Watch fan-out: 100 gRPC watchers, burst of 1000 changes committed to the store\n` +
      `latency per change = commit → last watcher received it; heap per watcher includes client-side stream state (RSS is too coarse to split per watcher)\n`,
  );
  console.log(
    table(
      ["store", "p50 ms", "p95 ms", "max ms", "all delivered ms", "heap KiB/watcher"],
      results.map((r) => [
        r.store,
        ms(r.latency.p50),
        ms(r.latency.p95),
        ms(r.latency.max),
        ms(r.drainMs),
        (r.heapPerWatcher / 1024).toFixed(1),
      ]),
    ),
  );
}

async function replicaSection(): Promise<void> {
  log("watch: PostgreSQL, commit on replica A, watcher on replica B…");
  const results = await benchReplicaWatch(300);
  console.log(
    `\n### Watch commit-to-delivery on PostgreSQL, 300 sequential writes through replica A\n` +
      `from the start of A's writing transaction to the watcher's client receiving the event, beside the transaction alone; across = the watcher is on replica B (LISTEN/NOTIFY wake-up, events table read)\n`,
  );
  console.log(
    table(
      ["watcher", "delivered p50 ms", "p99 ms", "max ms", "transaction p50 ms", "p99 ms"],
      results.map((r) => [
        r.path,
        ms(r.latency.p50),
        ms(r.latency.p99),
        ms(r.latency.max),
        ms(r.transaction.p50),
        ms(r.transaction.p99),
      ]),
    ),
  );
}

async function wireSection(): Promise<void> {
  const rows = [...(await benchUnary()), ...(await benchBundle())];
  console.log(`\n### Targets P1 (unary over h2c, each contender in its own process) and P4 (bundle)\n`);
  console.log(
    table(
      ["#", "what", "contender", "figure", "ratio", "target", "met"],
      rows.map((r) => [r.id, r.what, r.contender, r.figure, r.ratio, r.target, r.met ? "yes" : "no"]),
    ),
  );
}

const started = performance.now();
console.log(
  `# open-vcluster server benchmark\n\nnode ${process.version}, ${availableParallelism()} CPUs, sizes ${SIZES.map(sizeLabel).join(", ")}` +
    `${quick ? " (quick)" : ""}; client and server share one process`,
);
// --only=list|create|watch|replica|wire runs one section.
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
const sections: Record<string, () => Promise<void>> = {
  list: listSection,
  create: createSection,
  watch: watchSection,
  replica: replicaSection,
  wire: wireSection,
};
for (const [name, section] of Object.entries(sections)) if (!only || only === name) await section();
await stopPostgres();
const total = process.memoryUsage();
console.log(
  `\nfinished in ${((performance.now() - started) / 1000).toFixed(0)} s; final RSS ${mib(total.rss)} MiB, heap ${mib(total.heapUsed)} MiB`,
);
