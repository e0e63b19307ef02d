import { isIP } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { type ApiServer, type ApiServerOptions, createApiServer, type FaultInjector } from "../api-server.js";
import { systemClock } from "../clock.js";
import { createKubernetesProvider } from "../provider/index.js";
import type { Store } from "../store/index.js";
import { createConsoleAssetsHandler } from "./console-assets.js";
import { applyCors, type PlainResponse } from "./cors.js";
import { createOnePortServer } from "./one-port.js";

export interface ServerOptions extends ApiServerOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Without auth the server refuses non-loopback hosts unless this is set. */
  allowRemoteWithoutAuth?: boolean;
  /** Origins allowed to call from browsers ("*" = any). */
  corsOrigins?: string[];
  /** PEM contents; enables HTTPS with ALPN h2 + http/1.1. */
  tls?: { cert: string; key: string };
  /** A built web console (single-page app) to serve at `/`; API routes take precedence. */
  consoleDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  faults: FaultInjector;
  store: Store;
  api: ApiServer;
  /** Graceful: stop accepting, end watches, wait for in-flight calls, close the store. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "[::1]";
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 8080;
  const authConfigured =
    options.authTokensFile !== undefined || options.auth !== undefined || options.authenticator !== undefined;
  if (!authConfigured && !isLoopback(host) && !options.allowRemoteWithoutAuth) {
    throw new Error(
      `refusing to listen on ${host} without authentication; configure auth tokens or set allowRemoteWithoutAuth`,
    );
  }
  let provider = options.provider;
  if (!provider && options.kubernetes) {
    // Fails here, before listening, when the kubeconfig or context is wrong.
    const kubernetes = createKubernetesProvider({ ...options.kubernetes, clock: options.clock ?? systemClock });
    await kubernetes.loaded();
    provider = kubernetes;
  }
  const api = createApiServer({ ...options, ...(provider ? { provider } : {}) });
  const connect = connectNodeAdapter({ routes: api.routes });
  const corsOrigins = options.corsOrigins ?? [];
  const serveConsole = options.consoleDir ? createConsoleAssetsHandler(options.consoleDir) : undefined;
  const server = createOnePortServer((req, nodeRes) => {
    const res = nodeRes as unknown as PlainResponse;
    if (applyCors(corsOrigins, req, res)) return;
    const path = (req.url ?? "").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const ready = api.isReady();
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      res.end(ready ? "ready\n" : "shutting down\n");
      return;
    }
    if (serveConsole?.(req, nodeRes)) return;
    connect(req, nodeRes);
  }, options.tls);
  let boundPort: number;
  try {
    boundPort = await server.listen(port, host);
  } catch (error) {
    await api.close();
    throw error;
  }
  const scheme = options.tls ? "https" : "http";
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${urlHost}:${boundPort}`,
    port: boundPort,
    faults: api.faults,
    store: api.store,
    api,
    close() {
      closing ??= (async () => {
        const stopped = server.stopAccepting();
        await api.close();
        // Let the last responses (stream trailers) flush; connections still open after that
        // are idle keep-alives or stuck peers.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
        clearTimeout(timer);
        server.destroyAll();
        await stopped;
      })();
      return closing;
    },
  };
}
