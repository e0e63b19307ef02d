import * as http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code } from "@connectrpc/connect";
import { type ErrorDetail, ErrorDetailSchema } from "@open-vcluster/api";

/**
 * Raw protocol access for tests that send what no well-behaved client would: bytes that are not a
 * message, broken frames, wrong flags. It speaks just enough of each protocol to read the status.
 */
export type WireProtocol = "connect-json" | "connect-proto" | "grpc" | "grpc-web";

export interface WireRequest {
  /** "/vcluster.api.v1.VClusterService/ListVClusters" */
  path: string;
  /** The request body as sent; for enveloped protocols, the whole framed body. */
  body: Uint8Array;
  headers?: Record<string, string>;
  /** Only Connect unary: GET with this query instead of a POST. */
  query?: string;
}

export interface WireAnswer {
  /** HTTP status of the response. */
  status: number;
  /** The RPC status code; undefined when the answer is not an RPC response at all. */
  code: Code | undefined;
  message: string;
  detail: ErrorDetail | undefined;
  /** Bytes of the error as carried: JSON body for Connect, trailers for gRPC, trailer frame for gRPC-Web. */
  errorBytes: number;
}

/** The status of a successful call (Code has no member for it). */
export const OK = 0 as Code;

const CONNECT_CODES = new Map<string, Code>(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), v as Code]),
);

/** A gRPC length-prefixed message: flag byte, big-endian length, payload. */
export function envelope(payload: Uint8Array, flags = 0, declaredLength = payload.length): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = flags;
  view.setUint32(1, declaredLength >>> 0);
  out.set(payload, 5);
  return out;
}

export function contentType(protocol: WireProtocol, streaming: boolean): string {
  switch (protocol) {
    case "connect-json":
      return streaming ? "application/connect+json" : "application/json";
    case "connect-proto":
      return streaming ? "application/connect+proto" : "application/proto";
    case "grpc":
      return "application/grpc+proto";
    case "grpc-web":
      return "application/grpc-web+proto";
  }
}

/** Sends one raw request and reads back the status, whatever the protocol. */
export async function send(
  baseUrl: string,
  protocol: WireProtocol,
  req: WireRequest,
  timeoutMs = 90_000,
): Promise<WireAnswer> {
  if (protocol === "grpc") return sendGrpc(baseUrl, req, timeoutMs);
  const url = `${baseUrl}${req.path}${req.query ? `?${req.query}` : ""}`;
  const res = await fetch(url, {
    method: req.query ? "GET" : "POST",
    headers: req.query ? (req.headers ?? {}) : { "connect-protocol-version": "1", ...req.headers },
    ...(req.query ? {} : { body: req.body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  if (protocol === "grpc-web") return readGrpcWeb(res.status, res.headers, bytes);
  if (type.startsWith("application/connect+")) return readConnectStream(res.status, bytes);
  if (type.startsWith("application/json") && res.status !== 200) return readConnectError(res.status, bytes);
  return {
    status: res.status,
    code: res.status === 200 ? OK : undefined,
    message: "",
    detail: undefined,
    errorBytes: 0,
  };
}

function readConnectError(status: number, bytes: Uint8Array): WireAnswer {
  const json = JSON.parse(new TextDecoder().decode(bytes)) as {
    code?: string;
    message?: string;
    details?: { type: string; value: string }[];
  };
  const raw = json.details?.find((d) => d.type === ErrorDetailSchema.typeName)?.value;
  return {
    status,
    code: json.code === undefined ? undefined : CONNECT_CODES.get(json.code),
    message: json.message ?? "",
    detail: raw === undefined ? undefined : fromBinary(ErrorDetailSchema, base64Decode(raw)),
    errorBytes: bytes.length,
  };
}

function* frames(bytes: Uint8Array): Generator<{ flags: number; data: Uint8Array }> {
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
    yield { flags: bytes[offset] ?? 0, data: bytes.subarray(offset + 5, offset + 5 + length) };
    offset += 5 + length;
  }
}

function readConnectStream(status: number, bytes: Uint8Array): WireAnswer {
  for (const frame of frames(bytes)) {
    if ((frame.flags & 0b10) === 0) continue;
    const end = JSON.parse(new TextDecoder().decode(frame.data)) as { error?: unknown };
    if (end.error === undefined) return { status, code: OK, message: "", detail: undefined, errorBytes: 0 };
    const answer = readConnectError(status, new TextEncoder().encode(JSON.stringify(end.error)));
    return { ...answer, errorBytes: frame.data.length };
  }
  return { status, code: undefined, message: "no end-of-stream message", detail: undefined, errorBytes: 0 };
}

function fromGrpcHeaders(status: number, get: (name: string) => string | undefined, size: number): WireAnswer {
  const grpcStatus = get("grpc-status");
  const details = get("grpc-status-details-bin");
  let detail: ErrorDetail | undefined;
  if (details) {
    // google.rpc.Status: field 3 holds Any{type_url = 1, value = 2}; the first detail is ours.
    const statusBytes = base64Decode(details);
    detail = firstErrorDetail(statusBytes);
  }
  return {
    status,
    code: grpcStatus === undefined ? undefined : (Number(grpcStatus) as Code),
    message: decodeURIComponent(get("grpc-message") ?? ""),
    detail,
    errorBytes: size,
  };
}

function readGrpcWeb(status: number, headers: Headers, bytes: Uint8Array): WireAnswer {
  if (headers.get("grpc-status") !== null) {
    return fromGrpcHeaders(status, (n) => headers.get(n) ?? undefined, 0);
  }
  for (const frame of frames(bytes)) {
    if ((frame.flags & 0x80) === 0) continue;
    const trailer = new Map<string, string>();
    for (const line of new TextDecoder().decode(frame.data).split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) trailer.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return fromGrpcHeaders(status, (n) => trailer.get(n), frame.data.length);
  }
  return { status, code: undefined, message: "no trailer frame", detail: undefined, errorBytes: 0 };
}

/** Reads the first ErrorDetail out of a serialized google.rpc.Status without its schema. */
function firstErrorDetail(status: Uint8Array): ErrorDetail | undefined {
  let offset = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = status[offset++] ?? 0;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (offset < status.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) {
      varint();
      continue;
    }
    const length = varint();
    const body = status.subarray(offset, offset + length);
    offset += length;
    if (tag >>> 3 !== 3) continue;
    // Any: value is field 2; type_url field 1 is ours by construction.
    let inner = 0;
    while (inner < body.length) {
      const t = body[inner++] ?? 0;
      let len = 0;
      let shift = 0;
      for (;;) {
        const b = body[inner++] ?? 0;
        len += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
        shift += 7;
      }
      if (t >>> 3 === 2) return fromBinary(ErrorDetailSchema, body.subarray(inner, inner + len));
      inner += len;
    }
  }
  return undefined;
}

const sessions = new Map<string, http2.ClientHttp2Session>();

/** Closes the HTTP/2 sessions opened by gRPC sends. */
export function closeWireSessions(): void {
  for (const s of sessions.values()) s.close();
  sessions.clear();
}

function session(baseUrl: string): http2.ClientHttp2Session {
  let s = sessions.get(baseUrl);
  if (!s || s.closed || s.destroyed) {
    s = http2.connect(baseUrl);
    s.on("error", () => sessions.delete(baseUrl));
    s.unref();
    sessions.set(baseUrl, s);
  }
  return s;
}

function sendGrpc(baseUrl: string, req: WireRequest, timeoutMs: number): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session(baseUrl).request({
      ":method": "POST",
      ":path": req.path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...req.headers,
    });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => {
      headers = h;
      status = Number(h[":status"]);
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", () => {});
    stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on("error", reject);
    stream.on("close", () => {
      if (status === 0) {
        reject(new Error(`gRPC stream closed with RST code ${stream.rstCode}`));
        return;
      }
      const source = trailers["grpc-status"] !== undefined ? trailers : headers;
      const size = Object.entries(trailers).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
      const get = (n: string) => {
        const v = source[n];
        return Array.isArray(v) ? v[0] : v;
      };
      resolve(fromGrpcHeaders(status, get, size));
    });
    stream.end(req.body);
  });
}
