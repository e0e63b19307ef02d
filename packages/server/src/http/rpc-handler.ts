import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createContextValues,
  createServiceImplSpec,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  mergeNonProtocolHeaders,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, trailerMux } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { reencodeGrpcMessage } from "./grpc-message.js";
import { serverStreamingRoutes, serveServerStreaming } from "./server-streaming.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;
/** What both Node responses (HTTP/1.1 and the HTTP/2 compatibility API) offer the fast path. */
interface ResponseWriter {
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): unknown;
  addTrailers(headers: Record<string, string | string[]>): void;
  end(chunk?: Uint8Array): unknown;
}

/** The options of connectNodeAdapter that the server uses; they mean the same on both paths. */
export interface RpcHandlerOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
}

type ServiceOptions = Partial<ConnectRouterOptions>;
type Serializer = ReturnType<typeof createMethodSerializationLookup>;

/** What the fast path needs of one unary method, resolved once. */
interface UnaryRoute {
  method: DescMethodUnary;
  service: DescService;
  spec: Parameters<typeof invokeUnaryImplementation>[0];
  interceptors: Interceptor[];
  requestGate: ((ctx: HandlerContext) => void | Promise<void>) | undefined;
  readMaxBytes: number;
  shutdownSignal: AbortSignal | undefined;
  requireConnectProtocolHeader: boolean;
  serialization: Serializer;
  jsonOptions: ConnectRouterOptions["jsonOptions"];
}

const MAX_READ_BYTES = 0xffffffff;
/**
 * What a finished call's signal is aborted with: the AbortError connect's own `abort()` makes,
 * created once, since building a DOMException (and its stack) per call is measurable.
 */
const CALL_DONE = new DOMException("This operation was aborted", "AbortError");
const GRPC_CONTENT_TYPES = new Set(["application/grpc", "application/grpc+proto"]);

/**
 * The server's RPC handler: Connect, gRPC and gRPC-Web on Node's HTTP/1.1 and HTTP/2 servers.
 *
 * connect-node serves everything; a unary call in the binary format without compression or a
 * deadline — by far the most common call — takes a shorter road to the same code: the request
 * body is read into one buffer, decoded by protobuf-es, run through the very same request gate,
 * interceptors and implementation (connect's own `invokeUnaryImplementation`), and the answer is
 * written in one piece, without connect-node's async-iterable pipeline. Everything else
 * (streams, JSON, compression, deadlines, Connect GET, gRPC-Web) goes to connect-node.
 * See docs/server/performance.md.
 *
 * On both roads, gRPC's `grpc-message` is percent-encoded as the gRPC spec asks.
 */
export function createRpcHandler(options: RpcHandlerOptions): NodeHandler {
  const recorded: { service: DescService; impl: Partial<ServiceImpl<DescService>>; options?: ServiceOptions }[] = [];
  const recorder = {
    handlers: [],
    service(service: DescService, impl: Partial<ServiceImpl<DescService>>, serviceOptions?: ServiceOptions) {
      recorded.push({ service, impl, ...(serviceOptions ? { options: serviceOptions } : {}) });
      return recorder;
    },
    rpc() {
      throw new Error("createRpcHandler: register whole services with router.service()");
    },
  } as unknown as ConnectRouter;
  options.routes(recorder);
  const { routes: _routes, ...routerOptions } = options;
  const connect = connectNodeAdapter({
    ...routerOptions,
    routes: (router) => {
      for (const entry of recorded) router.service(entry.service, entry.impl, entry.options);
    },
  });

  const unary = new Map<string, UnaryRoute>();
  for (const entry of recorded) {
    const merged = { ...routerOptions, ...entry.options };
    const implSpec = createServiceImplSpec(entry.service, entry.impl);
    for (const method of entry.service.methods) {
      if (method.methodKind !== "unary") continue;
      const readMaxBytes = merged.readMaxBytes ?? MAX_READ_BYTES;
      unary.set(`/${entry.service.typeName}/${method.name}`, {
        method: method as DescMethodUnary,
        service: entry.service,
        spec: implSpec.methods[method.localName] as UnaryRoute["spec"],
        interceptors: merged.interceptors ?? [],
        requestGate: merged.requestGate,
        readMaxBytes,
        shutdownSignal: merged.shutdownSignal,
        requireConnectProtocolHeader: merged.requireConnectProtocolHeader ?? false,
        jsonOptions: merged.jsonOptions,
        serialization: createMethodSerializationLookup(method, merged.binaryOptions, merged.jsonOptions, {
          readMaxBytes,
          writeMaxBytes: merged.writeMaxBytes ?? MAX_READ_BYTES,
        }),
      });
    }
  }

  // Server-streaming calls have a fast path of their own (see server-streaming.ts).
  const streaming = serverStreamingRoutes(recorded, routerOptions);

  return (req, res) => {
    const stream = req.method === "POST" && req.url !== undefined ? streaming.get(req.url) : undefined;
    if (stream && serveServerStreaming(stream, req, res)) return;
    const route = req.method === "POST" && req.url !== undefined ? unary.get(req.url) : undefined;
    const protocol = route ? fastProtocol(req, route) : undefined;
    if (route && protocol) {
      void serveUnary(route, protocol, req, res);
      return;
    }
    if (isGrpc(req)) reencodeGrpcStatus(res);
    connect(req, res);
  };
}

type FastProtocol = "grpc" | "connect";

/** The protocol when the fast path can serve the call exactly as connect-node would, else undefined. */
function fastProtocol(req: NodeRequest, route: UnaryRoute): FastProtocol | undefined {
  const headers = req.headers;
  const contentType = headers["content-type"];
  if (contentType === undefined) return undefined;
  if (req.httpVersionMajor === 2 && GRPC_CONTENT_TYPES.has(contentType.toLowerCase())) {
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return undefined;
    if (headers["grpc-timeout"] !== undefined) return undefined;
    return "grpc";
  }
  if (contentType.toLowerCase() === "application/proto") {
    const encoding = headers["content-encoding"];
    if (encoding !== undefined && encoding !== "identity") return undefined;
    if (headers["connect-timeout-ms"] !== undefined) return undefined;
    if (route.requireConnectProtocolHeader && headers["connect-protocol-version"] === undefined) return undefined;
    return "connect";
  }
  return undefined;
}

function isGrpc(req: NodeRequest): boolean {
  const contentType = req.headers["content-type"];
  return contentType !== undefined && /^application\/grpc(?![-\w])/i.test(contentType);
}

async function serveUnary(route: UnaryRoute, protocol: FastProtocol, req: NodeRequest, res: NodeResponse) {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const authority = req.headers[":authority"] ?? req.headers.host ?? "localhost";
  const context = callContext(route, protocol, `${scheme}://${authority}${req.url}`, nodeHeadersToWeb(req.headers));
  // A client that resets the stream or drops the connection cancels the call.
  const onClose = () => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  res.once("close", onClose);
  let body: Uint8Array;
  let error: ConnectError | undefined;
  try {
    // As on connect's road: the gate runs before the body is read.
    if (route.requestGate) await route.requestGate(context);
    const bytes = await readBody(req, protocol === "grpc" ? route.readMaxBytes + 5 : route.readMaxBytes);
    const input = route.serialization
      .getI(true)
      .parse(protocol === "grpc" ? unwrapEnvelope(bytes, route.readMaxBytes) : bytes);
    const output = await invokeUnaryImplementation(route.spec, context, input, route.interceptors);
    body = route.serialization.getO(true).serialize(output as never);
  } catch (caught) {
    error =
      caught instanceof ConnectError
        ? caught
        : new ConnectError("internal error", Code.Internal, undefined, undefined, caught);
    // The gate's listeners see the error first (they refine it in place and log it).
    context.abort(error);
    body = new Uint8Array(0);
  } finally {
    context.abort(CALL_DONE);
  }
  res.off("close", onClose);
  if (res.destroyed) return;
  const writer = res as unknown as ResponseWriter;
  if (protocol === "grpc") writeGrpc(writer, context, body, error);
  else writeConnect(writer, context, body, error, route.jsonOptions);
  // Whatever the client still sends (after an error) is read and dropped, so it is not stuck
  // writing a body nobody reads.
  if (!req.readableEnded) req.resume();
}

type CallContext = HandlerContext & { abort(reason: unknown): void };

/**
 * The HandlerContext connect's createHandlerContext would make for a call without a deadline,
 * built directly: it skips copying the request headers into another Headers object and linking
 * a deadline signal that never fires.
 */
function callContext(route: UnaryRoute, protocol: FastProtocol, url: string, requestHeader: Headers): CallContext {
  const controller = new AbortController();
  const shutdown = route.shutdownSignal;
  const onShutdown = () => controller.abort(shutdown?.reason);
  if (shutdown?.aborted) controller.abort(shutdown.reason);
  else shutdown?.addEventListener("abort", onShutdown, { once: true });
  return {
    service: route.service,
    method: route.method,
    protocolName: protocol,
    requestMethod: "POST",
    url,
    signal: controller.signal,
    timeoutMs: () => undefined,
    requestHeader,
    responseHeader: new Headers(protocol === "grpc" ? GRPC_RESPONSE_HEADER : CONNECT_RESPONSE_HEADER),
    responseTrailer: protocol === "grpc" ? new Headers(GRPC_RESPONSE_TRAILER) : new Headers(),
    values: createContextValues(),
    abort(reason: unknown) {
      shutdown?.removeEventListener("abort", onShutdown);
      if (!controller.signal.aborted) controller.abort(reason);
    },
  };
}

const GRPC_RESPONSE_HEADER = { "content-type": "application/grpc+proto" };
const GRPC_RESPONSE_TRAILER = { "grpc-status": "0" };
const CONNECT_RESPONSE_HEADER = { "content-type": "application/proto" };

function writeGrpc(res: ResponseWriter, context: HandlerContext, body: Uint8Array, error: ConnectError | undefined) {
  if (error) setTrailerStatus(context.responseTrailer, error);
  const trailers = webHeadersToNode(context.responseTrailer);
  const message = trailers["grpc-message"];
  if (typeof message === "string") trailers["grpc-message"] = reencodeGrpcMessage(message);
  res.writeHead(200, webHeadersToNode(context.responseHeader));
  if (!error) {
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    res.write(frame);
  }
  res.addTrailers(trailers);
  res.end();
}

function writeConnect(
  res: ResponseWriter,
  context: HandlerContext,
  body: Uint8Array,
  error: ConnectError | undefined,
  jsonOptions: RpcHandlerOptions["jsonOptions"],
) {
  let status = 200;
  let payload = body;
  if (error) {
    status = codeToHttpStatus(error.code);
    context.responseHeader.set("content-type", "application/json");
    if (!error.isWireError) mergeNonProtocolHeaders(context.responseHeader, error.metadata);
    payload = errorToJsonBytes(error, jsonOptions ?? {});
  }
  const header = trailerMux(context.responseHeader, context.responseTrailer);
  header.set("content-length", String(payload.byteLength));
  res.writeHead(status, webHeadersToNode(header));
  res.end(payload);
}

/** The body in one buffer; a body over `limit` bytes is refused as connect refuses it. */
function readBody(req: NodeRequest, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    return Promise.reject(
      new ConnectError(
        `message size ${declared} is larger than configured readMaxBytes ${limit}`,
        Code.ResourceExhausted,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(
          new ConnectError(`message size is larger than configured readMaxBytes ${limit}`, Code.ResourceExhausted),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (cause: Error) => {
      cleanup();
      reject(
        new ConnectError(`reading the request failed: ${cause.message}`, Code.Canceled, undefined, undefined, cause),
      );
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** The one message of a unary gRPC request, with the errors connect raises for anything else. */
function unwrapEnvelope(bytes: Uint8Array, readMaxBytes: number): Uint8Array {
  if (bytes.length === 0) {
    throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  }
  if (bytes.length < 5) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint8(0);
  const length = view.getUint32(1);
  if (length > readMaxBytes) {
    throw new ConnectError(
      `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
      Code.ResourceExhausted,
    );
  }
  if (bytes.length < 5 + length) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if (bytes.length > 5 + length) {
    throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
  }
  if ((flags & 0b1) === 0b1) {
    throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
  }
  return bytes.subarray(5);
}

function nodeHeadersToWeb(headers: http.IncomingHttpHeaders): Headers {
  const web = new Headers();
  for (const key in headers) {
    if (key.charCodeAt(0) === 0x3a) continue; // HTTP/2 pseudo-headers
    const value = headers[key];
    if (typeof value === "string") web.append(key, value);
    else if (Array.isArray(value)) for (const item of value) web.append(key, item);
  }
  return web;
}

function webHeadersToNode(headers: Headers): Record<string, string | string[]> {
  const node: Record<string, string | string[]> = {};
  for (const [key, value] of headers) node[key] = key === "set-cookie" ? headers.getSetCookie() : value;
  return node;
}

/**
 * connect-node writes a gRPC status in the response headers (an error before any message) or
 * the trailers; this re-encodes `grpc-message` in both on its way out.
 */
function reencodeGrpcStatus(res: NodeResponse): void {
  const fix = (headers: unknown) => {
    if (headers && typeof headers === "object") {
      const record = headers as Record<string, unknown>;
      const message = record["grpc-message"];
      if (typeof message === "string") record["grpc-message"] = reencodeGrpcMessage(message);
    }
  };
  const writeHead = res.writeHead;
  const addTrailers = res.addTrailers;
  Object.assign(res, {
    writeHead(this: NodeResponse, ...args: unknown[]) {
      for (const arg of args) fix(arg);
      return (writeHead as (...a: unknown[]) => unknown).apply(this, args);
    },
    addTrailers(this: NodeResponse, headers: unknown) {
      fix(headers);
      return (addTrailers as (h: unknown) => void).call(this, headers);
    },
  });
}
