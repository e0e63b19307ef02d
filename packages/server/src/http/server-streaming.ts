import type * as http from "node:http";
import type * as http2 from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescService,
  type Message,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouterOptions,
  createHandlerContext,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
} from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  pipe,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { createEndStreamSerialization, endStreamFlag } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { createTrailerSerialization, trailerFlag } from "@connectrpc/connect/protocol-grpc-web";
import { reencodeGrpcMessage } from "./grpc-message.js";
import { nodeRequestHeaders, webHeadersToNode } from "./node-headers.js";
import { readyMessagesOf } from "./ready-messages.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
/** What both Node responses (HTTP/1.1 and the HTTP/2 compatibility API) offer a stream. */
interface ResponseWriter {
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  addTrailers(headers: Record<string, string | string[]>): void;
  end(chunk?: Uint8Array): unknown;
  destroy(): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

type Impl = (request: unknown, context: HandlerContext) => AsyncIterable<unknown>;

/** What the streaming fast path needs of one server-streaming method, resolved once. */
export interface ServerStreamingRoute {
  method: DescMethodServerStreaming;
  service: DescService;
  impl: Impl;
  interceptors: Interceptor[];
  requestGate: ((ctx: HandlerContext) => void | Promise<void>) | undefined;
  readMaxBytes: number;
  shutdownSignal: AbortSignal | undefined;
  requireConnectProtocolHeader: boolean;
  serialization: ReturnType<typeof createMethodSerializationLookup>;
  endStream: ReturnType<typeof createEndStreamSerialization>;
  /**
   * Each response message's wire frame (envelope included), per codec, keyed by the message
   * object: an implementation that hands the same message to many streams (a watch fan-out)
   * has it encoded once per codec, not once per stream.
   */
  frames: { binary: WeakMap<object, Uint8Array>; json: WeakMap<object, Uint8Array> };
}

const MAX_BYTES = 0xffffffff;
/** Frames waiting for one stream are written together once they reach this size. */
const FLUSH_BYTES = 64 * 1024;
/** How many waiting messages are taken at a time (see ReadyMessages). */
const READY_BATCH = 64;
const grpcWebTrailer = createTrailerSerialization();

/** A server-streaming route for every such method of the recorded services. */
export function serverStreamingRoutes(
  services: readonly { service: DescService; impl: Record<string, unknown>; options?: Partial<ConnectRouterOptions> }[],
  routerOptions: Partial<ConnectRouterOptions>,
): Map<string, ServerStreamingRoute> {
  const routes = new Map<string, ServerStreamingRoute>();
  for (const entry of services) {
    const merged = { ...routerOptions, ...entry.options };
    for (const method of entry.service.methods) {
      if (method.methodKind !== "server_streaming") continue;
      const fn = entry.impl[method.localName];
      // connect answers UNIMPLEMENTED for a method without an implementation.
      if (typeof fn !== "function") continue;
      const readMaxBytes = merged.readMaxBytes ?? MAX_BYTES;
      routes.set(`/${entry.service.typeName}/${method.name}`, {
        method: method as DescMethodServerStreaming,
        service: entry.service,
        impl: fn.bind(entry.impl) as Impl,
        interceptors: merged.interceptors ?? [],
        requestGate: merged.requestGate,
        readMaxBytes,
        shutdownSignal: merged.shutdownSignal,
        requireConnectProtocolHeader: merged.requireConnectProtocolHeader ?? false,
        serialization: createMethodSerializationLookup(method, merged.binaryOptions, merged.jsonOptions, {
          readMaxBytes,
          writeMaxBytes: merged.writeMaxBytes ?? MAX_BYTES,
        }),
        endStream: createEndStreamSerialization(merged.jsonOptions),
        frames: { binary: new WeakMap(), json: new WeakMap() },
      });
    }
  }
  return routes;
}

type Protocol = "grpc" | "grpc-web" | "connect";
interface Wire {
  protocol: Protocol;
  binary: boolean;
  contentType: string;
}

/** The content types served here, and what each is answered with (as connect answers it). */
const WIRES: Record<string, Wire> = {
  "application/grpc": { protocol: "grpc", binary: true, contentType: "application/grpc+proto" },
  "application/grpc+proto": { protocol: "grpc", binary: true, contentType: "application/grpc+proto" },
  "application/grpc+json": { protocol: "grpc", binary: false, contentType: "application/grpc+json" },
  "application/grpc-web": { protocol: "grpc-web", binary: true, contentType: "application/grpc-web+proto" },
  "application/grpc-web+proto": { protocol: "grpc-web", binary: true, contentType: "application/grpc-web+proto" },
  "application/grpc-web+json": { protocol: "grpc-web", binary: false, contentType: "application/grpc-web+json" },
  "application/connect+proto": { protocol: "connect", binary: true, contentType: "application/connect+proto" },
  "application/connect+json": { protocol: "connect", binary: false, contentType: "application/connect+json" },
};

/**
 * The wire when this path serves the call exactly as connect-node would: gRPC over HTTP/2,
 * gRPC-Web or Connect streaming, either codec, no request compression, no deadline. Anything
 * else (compressed requests, deadlines, gRPC-Web text, gRPC over HTTP/1.1) stays on connect-node.
 */
function wireOf(req: NodeRequest, route: ServerStreamingRoute): Wire | undefined {
  const headers = req.headers;
  const wire = WIRES[headers["content-type"]?.toLowerCase() ?? ""];
  if (wire === undefined) return undefined;
  if (wire.protocol === "connect") {
    const encoding = headers["connect-content-encoding"];
    if (encoding !== undefined && encoding !== "identity") return undefined;
    if (headers["connect-timeout-ms"] !== undefined) return undefined;
    if (route.requireConnectProtocolHeader && headers["connect-protocol-version"] === undefined) return undefined;
    return wire;
  }
  if (wire.protocol === "grpc" && req.httpVersionMajor !== 2) return undefined;
  const encoding = headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") return undefined;
  if (headers["grpc-timeout"] !== undefined) return undefined;
  return wire;
}

/**
 * Serves a server-streaming call when its wire allows (see wireOf) and returns true; returns
 * false, touching nothing, for connect-node to serve it.
 *
 * The call runs as connect runs it — the request gate before the body is read, connect's own
 * envelope parsing, the interceptors around the implementation, the same headers, trailers and
 * error statuses — but its messages are written without connect-node's per-message pipeline:
 * each message's frame is encoded once (and shared by every stream that sends the same message
 * object), what is ready for one stream goes out in one write, and a stream whose client does not
 * read is not asked for more until its buffer drains, so the implementation's own bounds (a
 * watch's queue limit) decide what happens to a reader that falls behind.
 */
export function serveServerStreaming(route: ServerStreamingRoute, req: NodeRequest, res: NodeResponse): boolean {
  const wire = wireOf(req, route);
  if (wire === undefined) return false;
  void new StreamCall(route, wire, req, res as unknown as ResponseWriter).run();
  return true;
}

// The streams of one fan-out flush the same frames in the same turn, one after another: the
// previous stream's join is the next one's too, so what a burst sends to N streams is copied
// into one buffer once, not N times (writes never change the buffer they are given).
let lastJoin: { frames: readonly Uint8Array[]; chunk: Uint8Array } | undefined;

function joinedOnce(frames: readonly Uint8Array[]): Uint8Array {
  const last = lastJoin;
  if (last !== undefined && last.frames.length === frames.length && last.frames.every((f, i) => f === frames[i])) {
    return last.chunk;
  }
  const chunk = Buffer.concat(frames);
  lastJoin = { frames, chunk };
  return chunk;
}

class StreamCall {
  private readonly context: HandlerContext & { abort(reason?: unknown): void };
  private readonly cancel = new AbortController();
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushQueued = false;
  private blocked = false;
  private closed = false;
  private wakeWriter: (() => void) | undefined;

  constructor(
    private readonly route: ServerStreamingRoute,
    private readonly wire: Wire,
    private readonly req: NodeRequest,
    private readonly res: ResponseWriter,
  ) {
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
    const authority = req.headers[":authority"] ?? req.headers.host ?? "localhost";
    this.context = createHandlerContext({
      service: route.service,
      method: route.method,
      protocolName: wire.protocol,
      requestMethod: "POST",
      url: `${scheme}://${authority}${req.url}`,
      requestHeader: nodeRequestHeaders(req.headers),
      responseHeader: { "content-type": wire.contentType },
      responseTrailer: wire.protocol === "connect" ? {} : { "grpc-status": "0" },
      requestSignal: this.cancel.signal,
      ...(route.shutdownSignal ? { shutdownSignal: route.shutdownSignal } : {}),
    });
  }

  async run(): Promise<void> {
    const { route, context, res } = this;
    // A client that resets the stream or drops the connection cancels the call.
    const onClose = () => {
      this.closed = true;
      this.cancel.abort(new ConnectError("the client cancelled the call", Code.Canceled));
      this.wake();
    };
    res.once("close", onClose);
    let error: ConnectError | undefined;
    let output: AsyncIterator<unknown> | undefined;
    try {
      // As on connect's road: the gate runs before the body is read.
      if (route.requestGate) await route.requestGate(context);
      const response = await this.invoke();
      output = response.message[Symbol.asyncIterator]();
      const takeReady = readyMessagesOf(output);
      for (;;) {
        if (this.closed) break;
        const next = await output.next();
        if (next.done) break;
        // An implementation may yield plain objects; connect makes them messages (create
        // returns a message of the schema unchanged).
        this.queue(this.frame(create(route.method.output, next.value as never)));
        // What else is waiting already joins the same write, without a turn per message.
        while (takeReady !== undefined && this.pendingBytes < FLUSH_BYTES) {
          const ready = takeReady(READY_BATCH);
          if (ready.length === 0) break;
          for (const message of ready) this.queue(this.frame(create(route.method.output, message as never)));
        }
        if (this.pendingBytes >= FLUSH_BYTES) this.flush();
        if (this.blocked) await this.drained();
      }
      copyHeaders(response.trailer, context.responseTrailer);
    } catch (caught) {
      error =
        caught instanceof ConnectError
          ? caught
          : new ConnectError("internal error", Code.Internal, undefined, undefined, caught);
    } finally {
      res.off("close", onClose);
      res.off("drain", this.onDrain);
      // Runs the implementation's cleanup (e.g. a watch leaving the hub) when the stream ends
      // before it does.
      if (this.closed) void output?.return?.().catch(() => undefined);
    }
    // The gate's listeners see the error first (they refine it in place and log it).
    context.abort(error);
    if (this.closed || res.destroyed) return;
    try {
      this.finish(error);
    } catch {
      // The end could not be written (the connection went away, or the status could not be
      // serialized): the stream is reset rather than left open.
      res.destroy();
      return;
    }
    // Whatever the client still sends is read and dropped.
    if (!this.req.readableEnded) this.req.resume();
  }

  /** The interceptors around the implementation, as connect applies them to a stream. */
  private invoke(): Promise<StreamResponse<DescMessage, DescMessage>> {
    const { route, context } = this;
    const last = async (req: StreamRequest<DescMessage, DescMessage>) => {
      const input = await single(req.message);
      const messages = route.impl(input, {
        ...context,
        service: req.service,
        requestHeader: req.header,
        signal: req.signal,
        values: req.contextValues,
      });
      return {
        stream: true as const,
        service: route.service,
        method: route.method,
        header: context.responseHeader,
        trailer: context.responseTrailer,
        message: messages as AsyncIterable<never>,
      };
    };
    let next = last as (
      req: StreamRequest<DescMessage, DescMessage>,
    ) => Promise<StreamResponse<DescMessage, DescMessage>>;
    for (const interceptor of [...route.interceptors].reverse()) next = interceptor(next as never) as typeof next;
    const promise = next({
      stream: true,
      service: route.service,
      method: route.method as never,
      requestMethod: "POST",
      url: context.url,
      signal: context.signal,
      header: context.requestHeader,
      contextValues: context.values,
      message: this.input(),
    });
    return promise.then((response) => {
      copyHeaders(response.header, context.responseHeader);
      return response;
    });
  }

  /** The request's messages, parsed by connect's own envelope transforms (and their errors). */
  private input(): AsyncIterable<Message> {
    const { route, wire, req } = this;
    const serialization = route.serialization.getI(wire.binary);
    const endFlag = wire.protocol === "connect" ? endStreamFlag : wire.protocol === "grpc-web" ? trailerFlag : 0;
    return pipe(
      nodeBody(req),
      transformSplitEnvelope(route.readMaxBytes),
      transformDecompressEnvelope(null, route.readMaxBytes),
      endFlag === 0 ? transformParseEnvelope(serialization) : transformParseEnvelope(serialization, endFlag),
    );
  }

  /** The message's frame, encoded once per message object and codec. */
  private frame(message: unknown): Uint8Array {
    const cache = this.wire.binary ? this.route.frames.binary : this.route.frames.json;
    const key = message as object;
    let frame = cache.get(key);
    if (frame === undefined) {
      const body = this.route.serialization.getO(this.wire.binary).serialize(message as never);
      frame = envelope(0, body);
      cache.set(key, frame);
    }
    return frame;
  }

  private queue(frame: Uint8Array): void {
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      // After the microtasks now running: everything the implementation has ready by then
      // (a drained watch queue) goes out in this one write.
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0 || this.closed || this.res.destroyed) return;
    const chunk = this.pending.length === 1 ? (this.pending[0] as Uint8Array) : joinedOnce(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.writeHead();
    // false: the stream's buffer is full; no more is taken from the implementation until it
    // drains. The drain is listened for from here on: it may come before the loop next looks.
    if (!this.res.write(chunk) && !this.blocked) {
      this.blocked = true;
      this.res.once("drain", this.onDrain);
    }
  }

  private readonly onDrain = () => {
    this.blocked = false;
    this.wake();
  };

  private wake(): void {
    const wake = this.wakeWriter;
    this.wakeWriter = undefined;
    wake?.();
  }

  /** Resolves once the client has read what is buffered (or is gone). */
  private drained(): Promise<void> {
    if (!this.blocked || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWriter = resolve;
    });
  }

  private writeHead(): void {
    if (!this.res.headersSent) this.res.writeHead(200, webHeadersToNode(this.context.responseHeader));
  }

  /** Writes what is still queued and the end of the stream: its status, as connect writes it. */
  private finish(error: ConnectError | undefined): void {
    const { context, res } = this;
    const frames = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.writeHead();
    if (this.wire.protocol === "grpc") {
      if (frames.length > 0) res.write(Buffer.concat(frames));
      if (error) setTrailerStatus(context.responseTrailer, error);
      const trailers = webHeadersToNode(context.responseTrailer);
      const message = trailers["grpc-message"];
      if (typeof message === "string") trailers["grpc-message"] = reencodeGrpcMessage(message);
      res.addTrailers(trailers);
      res.end();
      return;
    }
    if (this.wire.protocol === "grpc-web") {
      if (error) setTrailerStatus(context.responseTrailer, error);
      frames.push(envelope(trailerFlag, grpcWebTrailer.serialize(context.responseTrailer)));
    } else {
      const end = { metadata: context.responseTrailer, ...(error ? { error } : {}) };
      frames.push(envelope(endStreamFlag, this.route.endStream.serialize(end)));
    }
    res.end(Buffer.concat(frames));
  }
}

/** The one request message of a server-streaming call, with connect's errors for anything else. */
async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  }
  const second = await it.next();
  if (second.done !== true) {
    throw new ConnectError(
      "protocol error: received extra input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  return first.value;
}

async function* nodeBody(req: NodeRequest): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of req) yield chunk as Buffer;
  } catch (cause) {
    throw new ConnectError(
      `reading the request failed: ${(cause as Error).message}`,
      Code.Canceled,
      undefined,
      undefined,
      cause,
    );
  }
}

function envelope(flags: number, body: Uint8Array): Uint8Array {
  // Not from Buffer's shared pool: a cached frame must not keep a whole pool slab alive.
  const frame = new Uint8Array(5 + body.length);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, body.length);
  frame.set(body, 5);
  return frame;
}

function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  for (const [key, value] of from) to.set(key, value);
}
