#!/usr/bin/env node
import module from "node:module";
import { hideSqliteExperimentalWarning } from "./process-warnings.js";

// Reuses V8's compiled code of the server's modules across starts (kept in the system temp
// directory, or NODE_COMPILE_CACHE): most of a cold start is compiling them.
module.enableCompileCache?.();
hideSqliteExperimentalWarning();
// Imported only now: loading the server loads node:sqlite, which would warn first.
const { main } = await import("./main.js");
main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const inUse = (error as { code?: string }).code === "EADDRINUSE";
  const hint = inUse ? " (choose another port with --port or VCLUSTER_API_PORT)" : "";
  process.stderr.write(`vcluster-api-server: ${message}${hint}\n`);
  process.exit(1);
});
