/**
 * The watchers of the fan-out bench, in a process of their own so that the server's heap and
 * CPU are measured alone: `node watch-clients.ts <url> <watchers> <namespace>`. Each watcher is
 * a gRPC stream, all on one HTTP/2 connection. Lines on stdout: "ready" once every stream is
 * registered, "all <version>" when every watcher has received that version. On "report" (stdin)
 * it prints the delivery latencies (receipt minus the writer's `bench/sent` stamp, both on the
 * shared wall clock) as JSON and exits.
 *
 * The streams are read with `node:http2` directly rather than with N connect clients: decoding
 * the same event N times in one process would cap the figure far below what the server
 * delivers (the decoding, not the server, was what such a run measured). Each distinct message is
 * decoded once: a frame is looked up by its exact bytes (the map's key equality is a
 * byte-for-byte comparison), so a watcher whose copy differs in any byte gets it decoded on its
 * own. Every frame is still parsed out of its own stream and timed at its own arrival. The
 * server's tests keep connect clients; this is only about the measuring process.
 */
import * as http2 from "node:http2";
import { createInterface } from "node:readline";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Annotations,
  VClusterService,
  WatchEventType,
  WatchVClusterRequestSchema,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { summarize } from "./stats.ts";

export const SENT_ANNOTATION = "bench/sent";
const now = () => performance.timeOrigin + performance.now();

const [url = "", count = "0", namespace = ""] = process.argv.slice(2);
const watchers = Number(count);
const latencies: number[] = [];
const received = new Map<number, number>();
let firstSent = Number.POSITIVE_INFINITY;
let lastReceived = 0;
let ready = 0;
let stopping = false;

interface Decoded {
  type: WatchEventType;
  version: number;
  sent: number;
}
// Live events by their frame's bytes: decoded by the first watcher to receive them.
const decoded = new Map<string, Decoded>();

function decode(frame: Buffer): Decoded {
  const event = fromBinary(WatchVClusterResponseSchema, frame);
  return {
    type: event.type,
    version: Number(event.vcluster?.annotations[Annotations.resourceVersion]),
    sent: Number(event.vcluster?.annotations[SENT_ANNOTATION]),
  };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const session = http2.connect(url);
session.on("error", (error) => {
  if (!stopping) fail(`connection failed: ${String(error)}`);
});
// Room for a burst on every stream at once: flow control is not what is measured.
session.on("connect", () => session.setLocalWindowSize(1 << 30));

const path = `/${VClusterService.typeName}/${VClusterService.method.watchVCluster.name}`;
const body = toBinary(WatchVClusterRequestSchema, create(WatchVClusterRequestSchema, { namespace }));
const request = Buffer.alloc(5 + body.length);
request.writeUInt32BE(body.length, 1);
request.set(body, 5);

for (let w = 0; w < watchers; w++) watch();

function watch(): void {
  const stream = session.request(
    { ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers" },
    { endStream: false },
  );
  let registered = false;
  let carry: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    const at = now();
    let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    while (data.length >= 5) {
      const length = data.readUInt32BE(1);
      if (data.length < 5 + length) break;
      if (data[0] !== 0) fail(`unexpected frame flags ${data[0]}`);
      onMessage(data.subarray(5, 5 + length), at);
      data = data.subarray(5 + length);
    }
    carry = data;
  });
  stream.on("trailers", (trailers) => {
    if (!stopping) fail(`watch ended: grpc-status ${trailers["grpc-status"]} ${trailers["grpc-message"] ?? ""}`);
  });
  stream.on("response", (headers) => {
    if (headers["grpc-status"] !== undefined && !stopping) {
      fail(`watch refused: grpc-status ${headers["grpc-status"]} ${headers["grpc-message"] ?? ""}`);
    }
  });
  stream.on("error", (error) => {
    if (!stopping) fail(`watch failed: ${String(error)}`);
  });
  stream.end(request);

  function onMessage(frame: Buffer, at: number): void {
    const key = frame.toString("latin1");
    let event = decoded.get(key);
    if (event === undefined) {
      event = decode(frame);
      // Bookmarks differ per stream and moment; only live events are shared.
      if (event.type !== WatchEventType.UNSPECIFIED) decoded.set(key, event);
    }
    if (event.type === WatchEventType.UNSPECIFIED) {
      if (!registered && ++ready === watchers) process.stdout.write("ready\n");
      registered = true;
      return;
    }
    latencies.push(at - event.sent);
    firstSent = Math.min(firstSent, event.sent);
    lastReceived = Math.max(lastReceived, at);
    const seen = (received.get(event.version) ?? 0) + 1;
    received.set(event.version, seen);
    if (seen === watchers) {
      received.delete(event.version);
      decoded.delete(key);
      process.stdout.write(`all ${event.version}\n`);
    }
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "report") continue;
  process.stdout.write(`${JSON.stringify({ latency: summarize(latencies), firstSent, lastReceived })}\n`);
  stopping = true;
  session.destroy();
  process.exit(0);
}
