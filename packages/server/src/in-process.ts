import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { type ApiServer, type ApiServerOptions, createApiServer } from "./api-server.js";

/**
 * A transport that calls the server's handlers in memory: the full stack (auth gate,
 * interceptors, validation, store, provider) without a socket. For SDK users' tests.
 */
export function createInProcessTransport(options: ApiServerOptions = {}): { transport: Transport; server: ApiServer } {
  const server = createApiServer({ logger: false, ...options });
  return { transport: createRouterTransport(server.routes), server };
}
