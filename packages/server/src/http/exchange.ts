import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { Readable } from "node:stream";

// The two ways a unary call reaches the fast path: through Node's request and response objects
// (HTTP/1.1, and HTTP/2 streams something else left to the compatibility API), or as a raw
// HTTP/2 stream.

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What both Node responses (HTTP/1.1 and the HTTP/2 compatibility API) offer the fast path. */
export interface ResponseWriter {
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): unknown;
  addTrailers(headers: Record<string, string | string[]>): void;
  end(chunk?: Uint8Array): unknown;
}

/** One unary exchange, whichever Node API it arrived through. */
export interface Exchange {
  readonly headers: http.IncomingHttpHeaders;
  /** The full URL connect's HandlerContext carries. */
  readonly url: string;
  readonly body: Readable;
  readonly response: ResponseWriter;
  /** Calls `listener` when the client goes away; returns the function that stops listening. */
  onClose(listener: () => void): () => void;
  gone(): boolean;
}

export function compatExchange(req: NodeRequest, res: NodeResponse): Exchange {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const authority = req.headers[":authority"] ?? req.headers.host ?? "localhost";
  return {
    headers: req.headers,
    url: `${scheme}://${authority}${req.url}`,
    body: req,
    response: res as unknown as ResponseWriter,
    onClose(listener) {
      res.once("close", listener);
      return () => res.off("close", listener);
    },
    gone: () => res.destroyed,
  };
}

/**
 * A raw HTTP/2 stream answered through Node's core API: `respond`, one write and, for gRPC,
 * trailers once the data is out. This skips the compatibility API's request and response
 * objects, which cost a few microseconds a call.
 */
export function streamExchange(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  withTrailers: boolean,
  responseHeaders: Record<string, string> | undefined,
): Exchange {
  let trailers: Record<string, string | string[]> = {};
  const response: ResponseWriter = {
    writeHead(status, head) {
      stream.respond({ ...responseHeaders, ...head, ":status": status }, { waitForTrailers: withTrailers });
      if (withTrailers) stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    },
    write: (chunk) => stream.write(chunk),
    addTrailers(more) {
      trailers = more;
    },
    end: (chunk) => (chunk === undefined ? stream.end() : stream.end(chunk)),
  };
  return {
    headers,
    url: `${headers[":scheme"] ?? "http"}://${headers[":authority"] ?? headers.host ?? "localhost"}${headers[":path"]}`,
    body: stream,
    response,
    onClose(listener) {
      stream.once("close", listener);
      return () => stream.off("close", listener);
    },
    gone: () => stream.destroyed,
  };
}
