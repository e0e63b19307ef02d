import { createReadStream, type Stats, statSync } from "node:fs";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { isRpcPath, isServerPath } from "./routes.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
/** What both response kinds share, as one callable shape (their writeHead overloads differ). */
type AssetResponse = NodeJS.WritableStream & {
  writeHead(status: number, headers: Record<string, string>): unknown;
  destroy(error?: Error): unknown;
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

// Bundlers put a content hash in the names of the files they emit (e.g. "index-B4xk9_Qa.js"),
// so such a file never changes and browsers may keep it forever.
const HASHED_ASSET = /^\/assets\/.+[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
// The console's own pages (see its routing): the list at "/", a vcluster's detail under
// "/vclusters/<namespace>/<name>". Only these get the app; any other path that is not a file
// is not the console's, so a scrape or probe of a wrong path sees 404 instead of a page.
const APP_ROUTE = /^\/(?:index\.html|vclusters(?:\/[^/]*){0,2}\/?)?$/;

/**
 * Serves a built single-page app from `dir`. Returns true when it answered the request, false
 * when the request is not for the app (other methods, API and server routes, paths that are
 * neither a file nor a page of the app, or no built app), so the caller passes it on.
 */
export function createConsoleAssetsHandler(dir: string): (req: Request, res: Response) => boolean {
  const root = resolve(dir);
  const indexFile = join(root, "index.html");
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = requestPath(req.url);
    if (path === undefined) return reply(res, 400, "bad request path");
    if (isRpcPath(path) || isServerPath(path)) return false;
    const index = fileStats(indexFile);
    if (!index) return false;

    const file = resolve(root, `.${path}`);
    const inside = relative(root, file);
    if (inside.startsWith(`..${sep}`) || inside === ".." || isAbsolute(inside)) return reply(res, 404, "not found");
    const stats = path.endsWith("/") ? undefined : fileStats(file);
    if (stats) {
      serveFile(req, res, file, stats, HASHED_ASSET.test(path) ? "public, max-age=31536000, immutable" : "no-cache");
      return true;
    }
    // A missing file with an extension is a broken asset link, not a page of the app: answering
    // it with HTML would only hide the mistake behind a confusing parse error.
    if (extname(path) !== "") return reply(res, 404, "not found");
    if (!APP_ROUTE.test(path)) return false;
    serveFile(req, res, indexFile, index, "no-cache");
    return true;
  };
}

function requestPath(url: string | undefined): string | undefined {
  try {
    const pathname = decodeURIComponent(new URL(url ?? "/", "http://console.invalid").pathname);
    return pathname.includes("\0") || pathname.includes("\\") ? undefined : pathname;
  } catch {
    return undefined;
  }
}

function fileStats(file: string): Stats | undefined {
  try {
    const stats = statSync(file);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

function serveFile(req: Request, response: Response, file: string, stats: Stats, cacheControl: string): void {
  const res = response as unknown as AssetResponse;
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const headers = {
    "content-type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "cache-control": cacheControl,
    etag,
    "x-content-type-options": "nosniff",
  };
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": String(stats.size) });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

function reply(response: Response, status: number, text: string): true {
  const res = response as unknown as AssetResponse;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(`${text}\n`);
  return true;
}
