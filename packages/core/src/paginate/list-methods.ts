import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import {
  type ListSnapshotsRequestSchema,
  type ListVClustersRequestSchema,
  ResponseHeaders,
  type Snapshot,
  type SnapshotService,
  type VCluster,
  type VClusterService,
} from "@open-vcluster/api";
import { Paginated, type PaginateOptions } from "./paginated.js";

export type ListVClustersInit = Omit<MessageInitShape<typeof ListVClustersRequestSchema>, "pageToken" | "$typeName">;
export type ListSnapshotsInit = Omit<MessageInitShape<typeof ListSnapshotsRequestSchema>, "pageToken" | "$typeName">;

export interface PaginateCallOptions extends PaginateOptions {
  /** Options of each page request (timeout, headers). Each page goes through the client's retry policy. */
  callOptions?: Omit<CallOptions, "signal">;
}

export function paginateVClusters(
  client: Client<typeof VClusterService>,
  request: ListVClustersInit = {},
  options: PaginateCallOptions = {},
): Paginated<VCluster> {
  return new Paginated(async (pageToken, signal) => {
    let resourceVersion: string | undefined;
    const res = await client.listVClusters(
      { ...request, pageToken },
      {
        ...options.callOptions,
        signal,
        onHeader(headers) {
          resourceVersion = headers.get(ResponseHeaders.resourceVersion) ?? undefined;
          options.callOptions?.onHeader?.(headers);
        },
      },
    );
    return {
      items: res.vclusters,
      nextPageToken: res.nextPageToken,
      totalCount: res.totalCount,
      ...(resourceVersion ? { resourceVersion } : {}),
    };
  }, options);
}

export function paginateSnapshots(
  client: Client<typeof SnapshotService>,
  request: ListSnapshotsInit = {},
  options: PaginateCallOptions = {},
): Paginated<Snapshot> {
  return new Paginated(async (pageToken, signal) => {
    const res = await client.listSnapshots({ ...request, pageToken }, { ...options.callOptions, signal });
    return { items: res.snapshots, nextPageToken: res.nextPageToken, totalCount: res.totalCount };
  }, options);
}
