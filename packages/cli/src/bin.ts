#!/usr/bin/env node
import { processIo } from "./process-io.js";
import { run } from "./run.js";

const interrupted = new AbortController();
let signals = 0;
const onSignal = () => {
  // The first signal lets watch and serve finish cleanly; a second one means "now".
  if (++signals > 1) process.exit(130);
  interrupted.abort(new Error("interrupted"));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// A reader that went away (`| head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await run(process.argv.slice(2), processIo(interrupted.signal));
// Open handles (keep-alive sockets, timers of abandoned retries) must not keep a finished command
// alive, but piped output must be flushed first: an empty write calls back once earlier ones are out.
process.stderr.write("", () => process.stdout.write("", () => process.exit(code)));
