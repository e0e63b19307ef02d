// The reference server started in-process so tests can arm its fault injection: it prints
// its URL, then reads one JSON line per fault, {"rpc": {procedure, code, when, count}} or
// {"provider": {kind, mode, count, delayMs}} ({"clear": true} disarms all), arms it and
// answers "armed". Closing stdin stops the server.
import { createInterface } from "node:readline";
import { startServer } from "../../../packages/server/dist/index.js";

const server = await startServer({
  port: 0,
  store: "memory",
  timeScale: Number(process.argv[2] ?? "0"),
  faultInjection: true,
});
process.stdout.write(`listening on ${server.url}\n`);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const fault = JSON.parse(line);
  if (fault.rpc) server.faults.rpc.inject(fault.rpc);
  if (fault.provider) server.faults.provider.inject(fault.provider);
  if (fault.clear) {
    server.faults.rpc.clear();
    server.faults.provider.clear();
  }
  process.stdout.write("armed\n");
});
lines.on("close", () => {
  server.close().then(() => process.exit(0));
});
