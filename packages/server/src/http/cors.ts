import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { cors } from "@connectrpc/connect";
import { ResponseHeaders } from "@open-vcluster/api";
import { REQUEST_ID_HEADER } from "../observability/request-id.js";

type Req = IncomingMessage | Http2ServerRequest;
/** The part of http.ServerResponse / Http2ServerResponse both share. */
export interface PlainResponse {
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers?: Record<string, string>): unknown;
  end(chunk?: string): unknown;
}
type Res = PlainResponse;

/** Headers browsers may send besides Connect's own: credentials for the auth interceptor. */
const EXTRA_ALLOWED_HEADERS = ["Authorization"];

/**
 * CORS for an allowlist of origins ("*" allows any). Uses Connect's lists of methods and
 * headers, so the Connect and gRPC-Web protocols work from browsers. Returns true when the
 * request was a preflight and has been answered.
 */
export function applyCors(allowlist: readonly string[], req: Req, res: Res): boolean {
  const origin = req.headers.origin;
  if (allowlist.length === 0 || typeof origin !== "string") return false;
  const allowed = allowlist.includes("*") || allowlist.includes(origin);
  res.setHeader("Vary", "Origin");
  if (!allowed) {
    if (req.method === "OPTIONS") {
      res.writeHead(403);
      res.end();
      return true;
    }
    return false;
  }
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader(
    "Access-Control-Expose-Headers",
    [...cors.exposedHeaders, ResponseHeaders.resourceVersion, REQUEST_ID_HEADER].join(", "),
  );
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    res.setHeader("Access-Control-Allow-Methods", cors.allowedMethods.join(", "));
    res.setHeader("Access-Control-Allow-Headers", [...cors.allowedHeaders, ...EXTRA_ALLOWED_HEADERS].join(", "));
    res.setHeader("Access-Control-Max-Age", "7200");
    res.writeHead(204);
    res.end();
    return true;
  }
  return false;
}
