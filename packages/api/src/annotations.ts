/**
 * System-managed annotation keys the server sets on every VCluster. They live in the
 * contract's `annotations` map so that clients generated from the original proto keep
 * working unchanged.
 */
export const Annotations = {
  /** The object's resource version: a decimal string that grows with every change. */
  resourceVersion: "vcluster.open-vcluster.io/resource-version",
  /** The spec generation, incremented by every spec change. */
  generation: "vcluster.open-vcluster.io/generation",
  /** The id of the last operation that changed the object. */
  operationId: "vcluster.open-vcluster.io/operation-id",
} as const;

/** Response headers the server sets beside the contract's messages. */
export const ResponseHeaders = {
  /**
   * On ListVClusters: the resource version the page was read at. A client that lists every
   * page and then watches from the first page's version misses nothing: changes the later
   * pages already show are replayed with versions the client can recognise as old.
   */
  resourceVersion: "vcluster-resource-version",
} as const;
