import { type ClientOptions, createVClusterApiClient, type VClusterApiClient } from "@open-vcluster/core";
import { createNodeTransport } from "./node-transport.js";

/**
 * Creates a Node.js client: typed `vclusters` / `snapshots` clients plus pagination, watch,
 * informer and waiter helpers, all behind the SDK's retry policy.
 */
export function createClient(options: ClientOptions): VClusterApiClient {
  return createVClusterApiClient(options, createNodeTransport);
}

export * from "@open-vcluster/api";
export * from "@open-vcluster/core";
export { SERVICE_ACCOUNT_TOKEN_PATH, serviceAccountToken } from "./service-account-token.js";
export { createNodeTransport };
