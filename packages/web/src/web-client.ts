import { type ClientOptions, createVClusterApiClient, type VClusterApiClient } from "@open-vcluster/core";
import { createWebTransportFactory, type WebTransportSettings } from "./web-transport.js";

/** The Node client's options (browsers choose the HTTP version themselves) plus fetch settings. */
export type WebClientOptions = Omit<ClientOptions, "httpVersion"> & WebTransportSettings;

/**
 * Creates a browser client: the same typed `vclusters` / `snapshots` clients and the same
 * pagination, watch, informer and waiter helpers as the Node client, over fetch.
 */
export function createWebClient(options: WebClientOptions): VClusterApiClient {
  const { fetch, useBinaryFormat, useHttpGet, ...clientOptions } = options;
  return createVClusterApiClient(clientOptions, createWebTransportFactory({ fetch, useBinaryFormat, useHttpGet }));
}
