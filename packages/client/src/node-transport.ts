import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { TransportConfig } from "@open-vcluster/core";

/** The only Node-specific piece of the client: connect-node transports for each protocol. */
export function createNodeTransport(config: TransportConfig): Transport {
  const common = {
    baseUrl: config.baseUrl,
    interceptors: config.interceptors,
    defaultTimeoutMs: config.defaultTimeoutMs,
  };
  switch (config.protocol) {
    case "grpc":
      return createGrpcTransport(common);
    case "grpc-web":
      return createGrpcWebTransport({ ...common, httpVersion: config.httpVersion });
    default:
      return createConnectTransport({ ...common, httpVersion: config.httpVersion });
  }
}
