/**
 * The watchers of the fan-out bench, in a process of their own so that the server's heap and
 * CPU are measured alone: `node watch-clients.ts <url> <watchers> <namespace>`. Each watcher is
 * a gRPC stream (all on one HTTP/2 connection). Lines on stdout: "ready" once every stream is
 * registered, "all <version>" when every watcher has received that version. On "report" (stdin)
 * it prints the delivery latencies (receipt minus the writer's `bench/sent` stamp, both on the
 * shared wall clock) as JSON and exits.
 */
import { createInterface } from "node:readline";
import { Annotations, WatchEventType } from "@open-vcluster/api";
import { vclusterClient } from "./clients.ts";
import { summarize } from "./stats.ts";

export const SENT_ANNOTATION = "bench/sent";
const now = () => performance.timeOrigin + performance.now();

const [url = "", count = "0", namespace = ""] = process.argv.slice(2);
const watchers = Number(count);
const client = vclusterClient(url, "grpc-h2");
const abort = new AbortController();
const latencies: number[] = [];
const received = new Map<number, number>();
let firstSent = Number.POSITIVE_INFINITY;
let lastReceived = 0;
let ready = 0;

for (let w = 0; w < watchers; w++) {
  (async () => {
    let registered = false;
    for await (const event of client.watchVCluster({ namespace }, { signal: abort.signal })) {
      if (event.type === WatchEventType.UNSPECIFIED) {
        if (!registered && ++ready === watchers) process.stdout.write("ready\n");
        registered = true;
        continue;
      }
      const at = now();
      const sent = Number(event.vcluster?.annotations[SENT_ANNOTATION]);
      latencies.push(at - sent);
      firstSent = Math.min(firstSent, sent);
      lastReceived = Math.max(lastReceived, at);
      const version = Number(event.vcluster?.annotations[Annotations.resourceVersion]);
      const seen = (received.get(version) ?? 0) + 1;
      received.set(version, seen);
      if (seen === watchers) {
        received.delete(version);
        process.stdout.write(`all ${version}\n`);
      }
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) {
      process.stderr.write(`watch failed: ${String(error)}\n`);
      process.exit(1);
    }
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "report") continue;
  process.stdout.write(`${JSON.stringify({ latency: summarize(latencies), firstSent, lastReceived })}\n`);
  abort.abort();
  process.exit(0);
}
