// A small HTTP/2 load generator for when h2load is unavailable: `connections` sessions with
// `streams` calls in flight each, POSTing the same body for `seconds` after a warm-up. Runs in
// its own process (so it does not share an event loop with a contender) and prints
// `{"calls": n, "seconds": s, "failed": f}`.
//
//   node bench/h2-load.ts <url> <content-type> <body-hex> <connections> <streams> <seconds> <warmup>
import * as http2 from "node:http2";

const [url = "", contentType = "", bodyHex = "", connections = "4", streams = "32", seconds = "5", warmup = "1"] =
  process.argv.slice(2);
const target = new URL(url);
const body = Buffer.from(bodyHex, "hex");
const headers = {
  ":method": "POST",
  ":path": target.pathname,
  "content-type": contentType,
  te: "trailers",
  "connect-protocol-version": "1",
};

let counting = false;
let stopping = false;
let calls = 0;
let failed = 0;

function call(session: http2.ClientHttp2Session): void {
  if (stopping) return;
  const stream = session.request(headers);
  let ok = false;
  stream.on("response", (h) => {
    ok = h[":status"] === 200 && (h["grpc-status"] === undefined || h["grpc-status"] === "0");
  });
  stream.on("trailers", (t) => {
    if (t["grpc-status"] !== undefined && t["grpc-status"] !== "0") ok = false;
  });
  stream.on("data", () => {});
  stream.on("close", () => {
    if (counting) ok ? calls++ : failed++;
    call(session);
  });
  stream.end(body);
}

const sessions = Array.from({ length: Number(connections) }, () => http2.connect(target.origin));
for (const session of sessions) for (let i = 0; i < Number(streams); i++) call(session);
setTimeout(() => {
  counting = true;
  const started = performance.now();
  setTimeout(() => {
    counting = false;
    stopping = true;
    const elapsed = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({ calls, seconds: elapsed, failed })}\n`);
    for (const session of sessions) session.destroy();
  }, Number(seconds) * 1000);
}, Number(warmup) * 1000);
