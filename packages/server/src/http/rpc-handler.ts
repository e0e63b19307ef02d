import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { Readable } from "node:stream";
import type { DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
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
import { callContext, ShutdownLink } from "./call-context.js";
import { compatExchange, type Exchange, type ResponseWriter, streamExchange } from "./exchange.js";
import { reencodeGrpcMessage } from "./grpc-message.js";
import { nodeRequestHeaders, webHeadersToNode } from "./node-headers.js";
import { serverStreamingRoutes, serveServerStreaming } from "./server-streaming.js";
import { encodedFromUnknown } from "./unknown-only.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;

/**
 * The server's RPC handler: a request listener for Node's HTTP/1.1 and HTTP/2 servers, which
 * can also be offered an HTTP/2 stream before Node's compatibility API wraps it.
 */
export interface RpcHandler extends NodeHandler {
  /**
   * Serves `stream` on the fast path (with `responseHeaders` added to its answer) and returns
   * true, or returns false without touching it: the request listener then gets it as usual.
   */
  serveStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    responseHeaders?: Record<string, string>,
  ): boolean;
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
  shutdown: ShutdownLink;
  requireConnectProtocolHeader: boolean;
  serialization: Serializer;
  jsonOptions: ConnectRouterOptions["jsonOptions"];
  writeMaxBytes: number;
  /** Whether binary responses carry unknown fields (protobuf-es writes them by default). */
  writesUnknown: boolean;
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
export function createRpcHandler(options: RpcHandlerOptions): RpcHandler {
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

  const links = new Map<AbortSignal | undefined, ShutdownLink>();
  const shutdownLink = (signal: AbortSignal | undefined) => {
    let link = links.get(signal);
    if (link === undefined) {
      link = new ShutdownLink(signal);
      links.set(signal, link);
    }
    return link;
  };
  const unary = new Map<string, UnaryRoute>();
  for (const entry of recorded) {
    const merged = { ...routerOptions, ...entry.options };
    const implSpec = createServiceImplSpec(entry.service, entry.impl);
    for (const method of entry.service.methods) {
      if (method.methodKind !== "unary") continue;
      const readMaxBytes = merged.readMaxBytes ?? MAX_READ_BYTES;
      const writeMaxBytes = merged.writeMaxBytes ?? MAX_READ_BYTES;
      unary.set(`/${entry.service.typeName}/${method.name}`, {
        method: method as DescMethodUnary,
        service: entry.service,
        spec: implSpec.methods[method.localName] as UnaryRoute["spec"],
        interceptors: merged.interceptors ?? [],
        requestGate: merged.requestGate,
        readMaxBytes,
        shutdown: shutdownLink(merged.shutdownSignal),
        requireConnectProtocolHeader: merged.requireConnectProtocolHeader ?? false,
        jsonOptions: merged.jsonOptions,
        serialization: createMethodSerializationLookup(method, merged.binaryOptions, merged.jsonOptions, {
          readMaxBytes,
          writeMaxBytes,
        }),
        writeMaxBytes,
        writesUnknown: merged.binaryOptions?.writeUnknownFields !== false,
      });
    }
  }

  // Server-streaming calls have a fast path of their own (see server-streaming.ts).
  const streaming = serverStreamingRoutes(recorded, routerOptions);

  const handler: NodeHandler = (req, res) => {
    const stream = req.method === "POST" && req.url !== undefined ? streaming.get(req.url) : undefined;
    if (stream && serveServerStreaming(stream, req, res)) return;
    const route = req.method === "POST" && req.url !== undefined ? unary.get(req.url) : undefined;
    const protocol = route ? fastProtocol(req.headers, req.httpVersionMajor === 2, route) : undefined;
    if (route && protocol) {
      void serveUnary(route, protocol, compatExchange(req, res));
      return;
    }
    if (isGrpc(req.headers)) reencodeGrpcStatus(res);
    stopReadingWithoutDestroying(req, res);
    connect(req, res);
  };
  const serveStream: RpcHandler["serveStream"] = (stream, headers, responseHeaders) => {
    const path = headers[":path"];
    const route = headers[":method"] === "POST" && path !== undefined ? unary.get(path) : undefined;
    const protocol = route ? fastProtocol(headers, true, route) : undefined;
    if (!route || !protocol) return false;
    void serveUnary(route, protocol, streamExchange(stream, headers, protocol === "grpc", responseHeaders));
    return true;
  };
  return Object.assign(handler, { serveStream });
}

type FastProtocol = "grpc" | "connect";

/** The protocol when the fast path can serve the call exactly as connect-node would, else undefined. */
function fastProtocol(headers: http.IncomingHttpHeaders, http2: boolean, route: UnaryRoute): FastProtocol | undefined {
  const contentType = headers["content-type"];
  if (contentType === undefined) return undefined;
  if (http2 && GRPC_CONTENT_TYPES.has(contentType.toLowerCase())) {
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

function isGrpc(headers: http.IncomingHttpHeaders): boolean {
  const contentType = headers["content-type"];
  return contentType !== undefined && /^application\/grpc(?![-\w])/i.test(contentType);
}

async function serveUnary(route: UnaryRoute, protocol: FastProtocol, exchange: Exchange) {
  const grpc = protocol === "grpc";
  const context = callContext(
    {
      service: route.service,
      method: route.method,
      protocolName: protocol,
      url: exchange.url,
      requestHeader: nodeRequestHeaders(exchange.headers),
      responseHeader: new Headers(grpc ? GRPC_RESPONSE_HEADER : CONNECT_RESPONSE_HEADER),
      responseTrailer: grpc ? new Headers(GRPC_RESPONSE_TRAILER) : new Headers(),
    },
    route.shutdown,
  );
  // A client that resets the stream or drops the connection cancels the call.
  const stopListening = exchange.onClose(() =>
    context.abort(new ConnectError("the client cancelled the call", Code.Canceled)),
  );
  let body: Uint8Array;
  let error: ConnectError | undefined;
  try {
    // As on connect's road: the gate runs before the body is read.
    if (route.requestGate) await route.requestGate(context);
    const bytes = await readBody(exchange.body, exchange.headers, grpc ? route.readMaxBytes + 5 : route.readMaxBytes);
    const input = route.serialization.getI(true).parse(grpc ? unwrapEnvelope(bytes, route.readMaxBytes) : bytes);
    const output = await invokeUnaryImplementation(route.spec, context, input, route.interceptors);
    body = encodeOutput(route, output as Message);
  } catch (caught) {
    error =
      caught instanceof ConnectError
        ? caught
        : new ConnectError("internal error", Code.Internal, undefined, undefined, caught);
    // The gate's listeners see the error first (they refine it in place and log it).
    context.failed(error);
    context.abort(error);
    body = new Uint8Array(0);
  } finally {
    context.abort(CALL_DONE);
  }
  stopListening();
  if (exchange.gone()) return;
  if (grpc) writeGrpc(exchange.response, context, body, error);
  else writeConnect(exchange.response, context, body, error, route.jsonOptions);
  // Whatever the client still sends (after an error) is read and dropped, so it is not stuck
  // writing a body nobody reads.
  if (!exchange.body.readableEnded) exchange.body.resume();
}

/** The response's bytes; one that only carries already-encoded objects is written from them. */
function encodeOutput(route: UnaryRoute, output: Message): Uint8Array {
  const bytes = route.writesUnknown ? encodedFromUnknown(route.method.output, output) : undefined;
  if (bytes === undefined) return route.serialization.getO(true).serialize(output as never);
  if (bytes.length > route.writeMaxBytes) {
    // As connect's own limit says it.
    throw new ConnectError(
      `message size ${bytes.length} is larger than configured writeMaxBytes ${route.writeMaxBytes}`,
      Code.ResourceExhausted,
    );
  }
  return bytes;
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
  res.addTrailers(trailers);
  if (error) {
    res.end();
    return;
  }
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  // One call for the data and the end of it: the trailers follow once the data is out.
  res.end(frame);
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
function readBody(req: Readable, headers: http.IncomingHttpHeaders, limit: number): Promise<Uint8Array> {
  const declared = Number(headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    return Promise.reject(
      new ConnectError(
        `message size ${declared} is larger than configured readMaxBytes ${limit}`,
        Code.ResourceExhausted,
      ),
    );
  }
  // An empty body can have ended (HTTP/2 END_STREAM on the headers) while the gate ran.
  if (req.readableEnded) return Promise.resolve(new Uint8Array(0));
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

/**
 * connect-node reads a request's body with `for await`, which destroys the request when the loop
 * stops early: a message over the size limit. Over HTTP/1.1 that destroyed the connection with
 * the rest of the body unread, so the client got a reset instead of the RESOURCE_EXHAUSTED
 * answer; over HTTP/2 it reset the stream. The loop now leaves the request alone, and once the
 * response is out whatever the client still sends is read and dropped, so a kept-alive
 * connection goes on to its next request instead of stalling behind an unread body.
 */
function stopReadingWithoutDestroying(req: NodeRequest, res: NodeResponse): void {
  Object.defineProperty(req, Symbol.asyncIterator, {
    value: () => req.iterator({ destroyOnReturn: false }),
    configurable: true,
  });
  res.once("finish", () => {
    if (!req.readableEnded) req.resume();
  });
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
