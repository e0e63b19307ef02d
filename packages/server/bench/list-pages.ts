import type { Client } from "@connectrpc/connect";
import type { VCluster, VClusterService } from "@open-vcluster/api";
import { type RunningServer, type Store, startServer } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { namespaceOf, RARE_SELECTOR, rareLabels, seed, storeSpec, tempDir } from "./fixtures.ts";
import { collectGarbage, type Summary, sample, summarize } from "./stats.ts";

export type StoreKind = "memory" | "sqlite" | "postgres";
type Filter = "none" | "namespace" | "selector";
type Position = "first" | "deep";

export const FILTERS: readonly Filter[] = ["none", "namespace", "selector"];
export const PAGE_SIZES = [50, 500] as const;
export const POSITIONS: readonly Position[] = ["first", "deep"];

export interface RpcResult {
  store: StoreKind;
  size: number;
  filter: Filter;
  pageSize: number;
  position: Position;
  latency: Summary;
  totalCount: number;
  /** Items in the page: fewer than the page size where the filter matches fewer. */
  returned: number;
}

/** Store calls without the RPC layer: a page with its total, and the total alone (limit 0). */
export interface StoreResult {
  store: StoreKind;
  size: number;
  filter: Filter;
  position: Position;
  pageAndCount: Summary;
  countOnly: Summary;
}

export interface SizeResult {
  rpc: RpcResult[];
  raw: StoreResult[];
  seedMs: number;
  heapDelta: number;
  rssDelta: number;
}

type VClusterClient = Client<typeof VClusterService>;
type ListFilter = Parameters<Store["listVClusters"]>[0];

function rpcFilter(filter: Filter): { namespace?: string; labelSelector?: string } {
  if (filter === "namespace") return { namespace: namespaceOf(7) };
  if (filter === "selector") return { labelSelector: RARE_SELECTOR };
  return {};
}

function storeFilter(filter: Filter): ListFilter {
  if (filter === "namespace") return { namespace: namespaceOf(7) };
  if (filter === "selector") return { labels: rareLabels };
  return {};
}

/**
 * A token for the middle of the iteration, reached by following tokens with the largest page
 * size (the token does not depend on the page size), plus the last item before it.
 */
async function middleOf(client: VClusterClient, filter: Filter): Promise<{ token: string; last: VCluster }> {
  const base = rpcFilter(filter);
  const first = await client.listVClusters({ ...base, pageSize: 1 });
  const target = Math.max(1, Math.floor(first.totalCount / 2));
  let seen = first.vclusters.length;
  let token = first.nextPageToken;
  let last = first.vclusters[0];
  while (seen < target) {
    const page = await client.listVClusters({ ...base, pageSize: Math.min(1000, target - seen), pageToken: token });
    seen += page.vclusters.length;
    token = page.nextPageToken;
    last = page.vclusters.at(-1) ?? last;
  }
  if (last === undefined || token === "") throw new Error(`no middle page for filter ${filter}`);
  return { token, last };
}

async function openServer(kind: StoreKind, dir: string): Promise<RunningServer> {
  return startServer({
    port: 0,
    timeScale: 0,
    logger: false,
    store: await storeSpec(kind, dir),
  });
}

/** Seeds one server with `size` vclusters and times list pages against it. */
export async function benchListAtSize(kind: StoreKind, size: number): Promise<SizeResult> {
  const dir = tempDir();
  collectGarbage();
  const before = process.memoryUsage();
  const server = await openServer(kind, dir.path);
  try {
    const seedStart = performance.now();
    await seed(server.store, 0, size);
    const seedMs = performance.now() - seedStart;
    collectGarbage();
    const after = process.memoryUsage();
    const client = vclusterClient(server.url, "connect-h1");
    // Smaller collections are cheap, so they get more samples.
    const budgetMs = size >= 100_000 ? 600 : 300;
    const rpc: RpcResult[] = [];
    const raw: StoreResult[] = [];
    for (const filter of FILTERS) {
      const middle = await middleOf(client, filter);
      for (const pageSize of PAGE_SIZES) {
        for (const position of POSITIONS) {
          const request = {
            ...rpcFilter(filter),
            pageSize,
            ...(position === "deep" ? { pageToken: middle.token } : {}),
          };
          let totalCount = 0;
          let returned = 0;
          const durations = await sample(
            async () => {
              const page = await client.listVClusters(request);
              totalCount = page.totalCount;
              returned = page.vclusters.length;
            },
            { budgetMs },
          );
          rpc.push({
            store: kind,
            size,
            filter,
            pageSize,
            position,
            latency: summarize(durations),
            totalCount,
            returned,
          });
        }
      }
      for (const position of POSITIONS) {
        const cursor =
          position === "deep"
            ? { namespace: middle.last.namespace, name: middle.last.name, createTimeMs: 0, id: middle.last.id }
            : undefined;
        const where = storeFilter(filter);
        const pageAndCount = await sample(() => server.store.listVClusters(where, "name", cursor, 50), { budgetMs });
        const countOnly = await sample(() => server.store.listVClusters(where, "name", cursor, 0), { budgetMs });
        raw.push({
          store: kind,
          size,
          filter,
          position,
          pageAndCount: summarize(pageAndCount),
          countOnly: summarize(countOnly),
        });
      }
    }
    return {
      rpc,
      raw,
      seedMs,
      heapDelta: after.heapUsed - before.heapUsed,
      rssDelta: after.rss - before.rss,
    };
  } finally {
    await server.close();
    dir.remove();
  }
}
