#!/usr/bin/env node
import { hideSqliteExperimentalWarning } from "./process-warnings.js";

hideSqliteExperimentalWarning();
// Imported only now: loading the server loads node:sqlite, which would warn first.
const { main } = await import("./main.js");
main().catch((error: unknown) => {
  process.stderr.write(`vcluster-api-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
