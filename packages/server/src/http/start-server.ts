import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { isIP } from "node:net";
import { type ApiServer, type ApiServerOptions, createApiServer, type FaultInjector } from "../api-server.js";
import { systemClock } from "../clock.js";
import { REQUEST_ID_HEADER, requestIdFrom } from "../observability/request-id.js";
import { createKubernetesProvider } from "../provider/index.js";
import type { Store } from "../store/index.js";
import { createConsoleAssetsHandler } from "./console-assets.js";
import { applyCors, type PlainResponse } from "./cors.js";
import { createOnePortServer } from "./one-port.js";
import { isRpcPath } from "./routes.js";
import { createRpcHandler } from "./rpc-handler.js";

const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  name: string;
  version: string;
};

function text(res: PlainResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(body);
}

/**
 * The server's own endpoints: liveness (/livez, and /healthz as before), readiness, version and
 * Prometheus metrics. Returns false for any other path.
 */
function serveServerPath(api: ApiServer, path: string, res: PlainResponse): boolean {
  switch (path) {
    case "/healthz":
    case "/livez":
      // Answering at all is the proof of life: the process serves requests.
      text(res, 200, "ok\n");
      return true;
    case "/readyz": {
      const ready = api.isReady();
      text(res, ready ? 200 : 503, ready ? "ready\n" : "shutting down\n");
      return true;
    }
    case "/version":
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({ name: PACKAGE.name, version: PACKAGE.version, node: process.version, api: "vcluster.api.v1" })}\n`,
      );
      return true;
    case "/metrics": {
      const metrics = api.metrics;
      if (!metrics) {
        text(res, 404, "metrics are disabled\n");
        return true;
      }
      metrics.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": metrics.contentType });
          res.end(body);
        },
        (error: unknown) => text(res, 500, `collecting metrics failed: ${(error as Error).message}\n`),
      );
      return true;
    }
    default:
      return false;
  }
}

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
  const connect = createRpcHandler({ routes: api.routes });
  const corsOrigins = options.corsOrigins ?? [];
  const serveConsole = options.consoleDir ? createConsoleAssetsHandler(options.consoleDir) : undefined;
  // API calls the RPC handler's fast path takes straight from an HTTP/2 stream, with the
  // request id every response carries. Browser calls (CORS) take the request listener below.
  const claim = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    if (headers.origin !== undefined || !isRpcPath(headers[":path"] ?? "")) return false;
    const requestId = requestIdFrom(headers[REQUEST_ID_HEADER]);
    headers[REQUEST_ID_HEADER] = requestId;
    return connect.serveStream(stream, headers, { [REQUEST_ID_HEADER]: requestId });
  };
  const server = createOnePortServer(
    (req, nodeRes) => {
      const res = nodeRes as unknown as PlainResponse;
      // Every response carries the request's id; the API's interceptors read the same one back.
      const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      req.headers[REQUEST_ID_HEADER] = requestId;
      res.setHeader(REQUEST_ID_HEADER, requestId);
      if (applyCors(corsOrigins, req, res)) return;
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (serveServerPath(api, path, res)) return;
      if (isRpcPath(path)) {
        connect(req, nodeRes);
        return;
      }
      if (serveConsole?.(req, nodeRes)) return;
      text(res, 404, "not found\n");
    },
    options.tls,
    claim,
  );
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
