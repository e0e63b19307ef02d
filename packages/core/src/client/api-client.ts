import { type CallOptions, type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { type Snapshot, SnapshotService, type VCluster, VClusterService } from "@open-vcluster/api";
import {
  VClusterInformer as Informer,
  type InformerOptions,
  type VClusterInformer,
} from "../informer/vcluster-informer.js";
import {
  type ListSnapshotsInit,
  type ListVClustersInit,
  type PaginateCallOptions,
  paginateSnapshots,
  paginateVClusters,
} from "../paginate/list-methods.js";
import type { Paginated } from "../paginate/paginated.js";
import { createRetryInterceptor } from "../retry/retry-interceptor.js";
import { type Clock, type Random, systemClock } from "../time/clock.js";
import { type SnapshotWaitOptions, waitUntilSnapshotReady } from "../waiters/snapshot-waiter.js";
import {
  type VClusterGoal,
  type VClusterRef,
  type VClusterWaitOptions,
  type WaitForOptions,
  waitForVCluster,
  waitUntilDeleted,
  waitUntilRunning,
  waitUntilSuspended,
} from "../waiters/vcluster-waiters.js";
import { VClusterWatch, type WatchOptions, type WatchRequestInit } from "../watch/vcluster-watch.js";
import { createBearerAuthInterceptor } from "./auth-interceptor.js";
import { type ClientOptions, clientDefaults, resolveHttpVersion, type TransportConfig } from "./client-options.js";
import { invalidateToken } from "./token-source.js";

/** Builds the runtime's transport (connect-node, connect-web, an in-process router…). */
export type TransportFactory = (config: TransportConfig) => Transport;

export type ListWatchOptions = InformerOptions & {
  /** Filters of the list and the watch (name is for the watch only). */
  namespace?: string;
  labelSelector?: string;
  /** Page size of the list. Default: the server's (50). */
  pageSize?: number;
  /** Start at once (default true); otherwise call `informer.start()`. */
  start?: boolean;
};

/** The typed service clients plus every helper, bound to them and to the client's settings. */
export interface VClusterApiClient {
  readonly transport: Transport;
  readonly vclusters: Client<typeof VClusterService>;
  readonly snapshots: Client<typeof SnapshotService>;
  paginateVClusters(request?: ListVClustersInit, options?: PaginateCallOptions): Paginated<VCluster>;
  paginateSnapshots(request?: ListSnapshotsInit, options?: PaginateCallOptions): Paginated<Snapshot>;
  watch(request?: WatchRequestInit, options?: WatchOptions): VClusterWatch;
  listWatch(options?: ListWatchOptions): VClusterInformer;
  /** Pass the mutation's returned vcluster as `after` so the wait counts only that operation's outcome. */
  waitUntilRunning(ref: VClusterRef, options?: VClusterWaitOptions): Promise<VCluster>;
  waitUntilSuspended(ref: VClusterRef, options?: VClusterWaitOptions): Promise<VCluster>;
  waitUntilDeleted(ref: VClusterRef, options?: VClusterWaitOptions): Promise<void>;
  /** Waits for a condition (`{ condition: "Ready" }`) or any predicate of the vcluster. */
  waitFor(ref: VClusterRef, goal: VClusterGoal, options?: WaitForOptions): Promise<VCluster>;
  waitUntilSnapshotReady(snapshotId: string, options?: SnapshotWaitOptions): Promise<Snapshot>;
}

/** The interceptor chain every client uses: retry outermost, so auth and the caller's run per attempt. */
export function clientInterceptors(options: ClientOptions): Interceptor[] {
  const chain: Interceptor[] = [];
  if (options.retry !== false) {
    chain.push(createRetryInterceptor({ clock: options.clock, random: options.random, ...options.retry }));
  }
  if (options.token !== undefined) chain.push(createBearerAuthInterceptor(options.token));
  chain.push(...(options.interceptors ?? []));
  return chain;
}

/**
 * Turns client options into a transport through the runtime's factory, then binds the helpers.
 * Runtime packages (Node, browser) differ only in the factory they pass.
 */
export function createVClusterApiClient(options: ClientOptions, transportFactory: TransportFactory): VClusterApiClient {
  const timeoutMs = options.timeoutMs ?? clientDefaults.timeoutMs;
  const transport = transportFactory({
    baseUrl: options.baseUrl,
    protocol: options.protocol ?? clientDefaults.protocol,
    httpVersion: resolveHttpVersion(options),
    interceptors: clientInterceptors(options),
    defaultTimeoutMs: timeoutMs > 0 ? timeoutMs : undefined,
  });
  return bindHelpers(transport, options);
}

/** Binds every helper to clients over an existing transport (e.g. an in-process one in tests). */
export function bindHelpers(
  transport: Transport,
  options: Pick<ClientOptions, "clock" | "random" | "watch" | "token"> = {},
): VClusterApiClient {
  const vclusters = createClient(VClusterService, transport);
  const snapshots = createClient(SnapshotService, transport);
  const clock: Clock = options.clock ?? systemClock;
  const random: Random = options.random ?? Math.random;
  const watchDefaults = {
    ...options.watch,
    ...(options.token !== undefined
      ? { refreshCredentials: (refused: string | undefined) => invalidateToken(options.token, refused) }
      : {}),
  };
  const waiterContext = { client: vclusters, clock, random, watch: watchDefaults };
  const watch = (request: WatchRequestInit = {}, watchOptions: WatchOptions = {}) =>
    new VClusterWatch(vclusters, request, { clock, random, ...watchDefaults, ...watchOptions });
  return {
    transport,
    vclusters,
    snapshots,
    paginateVClusters: (request, paginateOptions) => paginateVClusters(vclusters, request, paginateOptions),
    paginateSnapshots: (request, paginateOptions) => paginateSnapshots(snapshots, request, paginateOptions),
    watch,
    listWatch(listWatchOptions = {}) {
      const { namespace, labelSelector, pageSize, start, ...informerOptions } = listWatchOptions;
      const informer = new Informer(
        {
          listPages: (signal) =>
            paginateVClusters(vclusters, { namespace, labelSelector, pageSize }, { signal }).pages(),
          watch: (resourceVersion, extra) => watch({ namespace, labelSelector }, { resourceVersion, ...extra }),
        },
        { clock, random, ...informerOptions },
      );
      // The informer's failure is observable through waitForSync, iteration and start()'s promise.
      if (start !== false) informer.start().catch(() => undefined);
      return informer;
    },
    waitUntilRunning: (ref, waitOptions) => waitUntilRunning(waiterContext, ref, waitOptions),
    waitUntilSuspended: (ref, waitOptions) => waitUntilSuspended(waiterContext, ref, waitOptions),
    waitUntilDeleted: (ref, waitOptions) => waitUntilDeleted(waiterContext, ref, waitOptions),
    waitFor: (ref, goal, waitOptions) => waitForVCluster(waiterContext, ref, goal, waitOptions),
    waitUntilSnapshotReady: (snapshotId, waitOptions) =>
      waitUntilSnapshotReady({ client: snapshots, clock, random }, snapshotId, waitOptions),
  };
}

export type { CallOptions };
