import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

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
 * ALPN picks the protocol instead (h2 or http/1.1).
 */
export function createOnePortServer(handler: Handler, tls?: { cert: string; key: string }): OnePortServer {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
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
  let h1: http.Server | undefined;
  if (tls) {
    const secure = http2.createSecureServer(
      { cert: tls.cert, key: tls.key, allowHTTP1: true, ALPNProtocols: ["h2", "http/1.1"] },
      handler,
    );
    trackSessions(secure);
    secure.on("secureConnection", track);
    front = secure;
  } else {
    const h2 = http2.createServer(handler);
    trackSessions(h2);
    h1 = http.createServer(handler);
    const plain = h1;
    front = net.createServer((socket) => {
      track(socket);
      const route = (chunk: Buffer) => {
        socket.pause();
        const prefix = H2_PREFACE.subarray(0, Math.min(chunk.length, H2_PREFACE.length));
        if (chunk.subarray(0, prefix.length).equals(prefix)) {
          h2.emit("connection", replayingStream(socket, chunk));
        } else {
          socket.unshift(chunk);
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
      h1?.closeIdleConnections();
      // Keep-alive HTTP/1.1 sockets that become idle later are closed as their responses end.
      h1?.on("request", (_req, res) => res.setHeader("connection", "close"));
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
 * The HTTP/2 session reads from a net.Socket's native handle, which would skip the bytes
 * already read to sniff the protocol. A JS duplex over the socket replays them first.
 */
function replayingStream(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(head);
  socket.on("data", (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  return duplex;
}
