// The reference server started in-process so tests can arm its RPC fault injection: it
// prints its URL, then reads one JSON fault per stdin line ({"procedure", "code", "when",
// "count"}), arms it and answers "armed". Closing stdin stops the server.
import { createInterface } from "node:readline";
import { startServer } from "../../../packages/server/dist/index.js";

const server = await startServer({ port: 0, store: "memory", timeScale: Number(process.argv[2] ?? "0") });
process.stdout.write(`listening on ${server.url}\n`);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  server.faults.rpc.inject(JSON.parse(line));
  process.stdout.write("armed\n");
});
lines.on("close", () => {
  server.close().then(() => process.exit(0));
});
