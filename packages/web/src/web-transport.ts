import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { TransportConfig, TransportFactory } from "@open-vcluster/core";

/** Browser-only transport settings, beside the options every client shares. */
export interface WebTransportSettings {
  /**
   * The fetch to call, e.g. one that sets `credentials`. Default: the global fetch, looked up on
   * every call so test doubles and polyfills installed later are honoured.
   */
  fetch?: typeof globalThis.fetch;
  /** Protobuf binary (default, smaller and what the Node client sends) or JSON (readable in devtools). */
  useBinaryFormat?: boolean;
  /** Send read-only RPCs of the Connect protocol as cacheable GET requests (default true). */
  useHttpGet?: boolean;
}

/**
 * Builds connect-web transports: Connect or gRPC-Web over fetch. Browsers cannot speak plain gRPC
 * (no trailers, no control over HTTP/2), so asking for it fails here with a pointer to gRPC-Web.
 */
export function createWebTransportFactory(settings: WebTransportSettings = {}): TransportFactory {
  const fetchImpl: typeof globalThis.fetch = settings.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const common = { useBinaryFormat: settings.useBinaryFormat ?? true, fetch: fetchImpl };
  return (config: TransportConfig): Transport => {
    const shared = {
      ...common,
      baseUrl: config.baseUrl,
      interceptors: config.interceptors,
      defaultTimeoutMs: config.defaultTimeoutMs,
    };
    switch (config.protocol) {
      case "grpc-web":
        return createGrpcWebTransport(shared);
      case "connect":
        return createConnectTransport({ ...shared, useHttpGet: settings.useHttpGet ?? true });
      default:
        throw new TypeError('browsers cannot use the gRPC protocol: use protocol "connect" or "grpc-web"');
    }
  };
}
