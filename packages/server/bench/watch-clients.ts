/**
 * The watchers of the fan-out bench, in a process of their own so that the server's heap and
 * CPU are measured alone: `node watch-clients.ts <url> <watchers> <namespace>`. Each watcher is
 * a gRPC stream, all on one HTTP/2 connection. Lines on stdout: "ready" once every stream is
 * registered, "all <version>" when every watcher has received that version. On "report" (stdin)
 * it prints the delivery latencies (receipt minus the writer's `bench/sent` stamp, both on the
 * shared wall clock) and its own CPU time since "ready" as JSON, and exits.
 *
 * The streams are read with `node:http2` directly rather than with N connect clients: decoding
 * the same event N times in one process would cap the figure far below what the server
 * delivers (the decoding, not the server, was what such a run measured). Each distinct message is
 * decoded once: a frame is looked up by its exact bytes (the map's key equality is a
 * byte-for-byte comparison), so a watcher whose copy differs in any byte gets it decoded on its
 * own. Every frame is still parsed out of its own stream and timed at its own arrival. The
 * server's tests keep connect clients; this is only about the measuring process.
 *
 * Finding a frame must cost less than what the server spends sending it, or this process, not
 * the server, sets the figure (keying a map by the frame as a string did: each look-up hashed
 * a new string of the frame's length). The streams receive the same events in the same order,
 * so each stream first compares its frame byte for byte with the next one in the order the
 * first receivers saw; anything else is looked up by a digest of its bytes (and compared too).
 */
import { hash } from "node:crypto";
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
let readyCpu: NodeJS.CpuUsage | undefined;

/** CPU time (user + system, µs) since `from`. */
function cpuSince(from: NodeJS.CpuUsage | undefined): number {
  const used = process.cpuUsage(from);
  return used.user + used.system;
}

interface Decoded {
  type: WatchEventType;
  version: number;
  sent: number;
}
interface Received {
  frame: Buffer;
  event: Decoded;
  /** Its place in `order`. */
  index: number;
}
// Live events in the order they first arrived, and by their frame's digest: decoded by the
// first watcher to receive them.
const order: Received[] = [];
const byDigest = new Map<string, Received>();

/** The live event of `frame` when some stream received the same bytes; `next` is checked first. */
function known(frame: Buffer, next: number): Received | undefined {
  const expected = order[next];
  if (expected?.frame.equals(frame)) return expected;
  const hit = byDigest.get(hash("sha1", frame, "base64"));
  return hit?.frame.equals(frame) ? hit : undefined;
}

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
  // Where in `order` this stream's next live event most likely is.
  let next = 0;
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
    let arrived = known(frame, next);
    if (arrived === undefined) {
      const event = decode(frame);
      // Bookmarks differ per stream and moment; only live events are shared.
      if (event.type === WatchEventType.UNSPECIFIED) {
        onBookmark();
        return;
      }
      arrived = { frame, event, index: order.length };
      order.push(arrived);
      const digest = hash("sha1", frame, "base64");
      if (!byDigest.has(digest)) byDigest.set(digest, arrived);
    }
    next = arrived.index + 1;
    onEvent(arrived.event, at);
  }

  function onBookmark(): void {
    if (!registered && ++ready === watchers) {
      readyCpu = process.cpuUsage();
      process.stdout.write("ready\n");
    }
    registered = true;
  }

  function onEvent(event: Decoded, at: number): void {
    // The initial state (before the stream's first bookmark) is not a delivery of a change.
    if (!registered) return;
    latencies.push(at - event.sent);
    firstSent = Math.min(firstSent, event.sent);
    lastReceived = Math.max(lastReceived, at);
    const seen = (received.get(event.version) ?? 0) + 1;
    received.set(event.version, seen);
    if (seen === watchers) {
      received.delete(event.version);
      process.stdout.write(`all ${event.version}\n`);
    }
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "report") continue;
  process.stdout.write(
    `${JSON.stringify({ latency: summarize(latencies), firstSent, lastReceived, cpuSinceReady: cpuSince(readyCpu) })}\n`,
  );
  stopping = true;
  session.destroy();
  process.exit(0);
}
