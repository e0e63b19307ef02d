import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { VClusterService } from "@open-vcluster/api";

export type Wire = "connect-h1" | "grpc-h2";

export const WIRE_LABEL: Record<Wire, string> = {
  "connect-h1": "Connect HTTP/1.1",
  "grpc-h2": "gRPC HTTP/2",
};

/** Binary Connect over HTTP/1.1 (what a fetch-based client sends) or gRPC over cleartext HTTP/2. */
export function transport(baseUrl: string, wire: Wire): Transport {
  if (wire === "grpc-h2") return createGrpcTransport({ baseUrl });
  return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true });
}

export function vclusterClient(baseUrl: string, wire: Wire): Client<typeof VClusterService> {
  return createClient(VClusterService, transport(baseUrl, wire));
}
