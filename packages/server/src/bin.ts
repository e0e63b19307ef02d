#!/usr/bin/env node
import { hideSqliteExperimentalWarning } from "./process-warnings.js";

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
