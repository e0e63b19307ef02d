import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Takes an HTTP/2 stream before Node's compatibility API does (true), or leaves it (false). */
export type StreamClaim = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

export interface OnePortServer {
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting connections and lets idle ones go; open streams keep running. */
  stopAccepting(): Promise<void>;
  /** Closes every connection, idle or not. */
  destroyAll(): void;
}

/**
 * Serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC clients use) on one port:
 * a plain TCP server peeks at the first bytes and hands the socket to the HTTP/2 server when
 * they are the HTTP/2 connection preface, to the HTTP/1.1 server otherwise. With TLS,
 * ALPN picks the protocol instead (h2 or http/1.1). `claim`, when given, sees every HTTP/2
 * stream first (see RpcHandler.serveStream); `handler` gets the ones it leaves.
 */
export function createOnePortServer(
  handler: Handler,
  tls?: { cert: string; key: string },
  claim?: StreamClaim,
): OnePortServer {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  // HTTP/1.1 connections and how many requests each is serving. Node's own
  // closeIdleConnections() does nothing here: the h1 server below never listens itself, so it
  // never starts tracking connections. Without this, idle keep-alive sockets held close() open.
  const h1Sockets = new Map<net.Socket, number>();
  let stopping = false;
  const trackH1 = (socket: net.Socket) => {
    h1Sockets.set(socket, 0);
    socket.once("close", () => h1Sockets.delete(socket));
  };
  const serve: Handler = (req, res) => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket as net.Socket;
      h1Sockets.set(socket, (h1Sockets.get(socket) ?? 0) + 1);
      if (stopping && !res.headersSent) res.setHeader("connection", "close");
      res.once("close", () => {
        const busy = Math.max(0, (h1Sockets.get(socket) ?? 1) - 1);
        if (h1Sockets.has(socket)) h1Sockets.set(socket, busy);
        // Ends the connection once its last response is out, so shutdown need not wait for it.
        if (stopping && busy === 0) socket.end();
      });
    }
    handler(req, res);
  };
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const trackSessions = (server: http2.Http2Server | http2.Http2SecureServer) =>
    server.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });

  let front: net.Server;
  if (tls) {
    const secure = http2.createSecureServer(
      { cert: tls.cert, key: tls.key, allowHTTP1: true, ALPNProtocols: ["h2", "http/1.1"] },
      serve,
    );
    trackSessions(secure);
    if (claim) claimStreamsFirst(secure, claim);
    secure.on("secureConnection", (socket: net.Socket & { alpnProtocol?: string | false }) => {
      track(socket);
      if (socket.alpnProtocol !== "h2") trackH1(socket);
    });
    front = secure;
  } else {
    const h2 = http2.createServer(serve);
    trackSessions(h2);
    if (claim) claimStreamsFirst(h2, claim);
    const plain = http.createServer(serve);
    // noDelay: HTTP/2 frames reach this socket through a JS stream in small writes; with Nagle
    // on, each response waited for the client's delayed ACK (~40 ms per call over h2c).
    front = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      const route = (chunk: Buffer) => {
        socket.pause();
        const prefix = H2_PREFACE.subarray(0, Math.min(chunk.length, H2_PREFACE.length));
        // Both servers take the socket itself, the sniffed bytes put back: Node's HTTP/2 session
        // reads what is buffered on the socket before its native handle.
        socket.unshift(chunk);
        if (chunk.subarray(0, prefix.length).equals(prefix)) {
          h2.emit("connection", socket);
        } else {
          trackH1(socket);
          plain.emit("connection", socket);
          socket.resume();
        }
      };
      socket.once("data", route);
      socket.on("error", () => socket.destroy());
    });
  }

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        front.once("error", reject);
        front.listen(port, host, () => {
          front.off("error", reject);
          resolve((front.address() as net.AddressInfo).port);
        });
      });
    },
    stopAccepting() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      stopping = true;
      // Idle keep-alive HTTP/1.1 connections go now; busy ones end after their last response.
      for (const [socket, busy] of h1Sockets) if (busy === 0) socket.destroy();
      // GOAWAY: clients finish their open streams and open no new ones.
      for (const session of sessions) session.close();
      return closed.then(
        () => undefined,
        () => undefined,
      );
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Node's compatibility API turns each stream into a request and a response from a "stream"
 * listener of its own; that listener is moved behind `claim`, so a stream the claim takes is
 * never wrapped, and every other one is handled exactly as before.
 */
function claimStreamsFirst(server: http2.Http2Server | http2.Http2SecureServer, claim: StreamClaim): void {
  const compatibility = server.listeners("stream") as ((...args: unknown[]) => void)[];
  server.removeAllListeners("stream");
  server.on("stream", (stream, headers, ...rest: unknown[]) => {
    if (claim(stream, headers)) return;
    for (const listener of compatibility) listener.call(server, stream, headers, ...rest);
  });
}
