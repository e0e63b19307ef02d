import type { Command } from "commander";
import type { CliIo } from "./io.js";
import { processIo } from "./process-io.js";
import { buildProgram } from "./program.js";

export { ExitCode, type ExitCodeValue } from "./exit-codes.js";
export type { CliIo, OutputStream } from "./io.js";
export { processIo } from "./process-io.js";
export { run } from "./run.js";

/** The command tree (for documentation generators, or to embed the commands in another program). */
export function createProgram(io: CliIo = processIo()): Command {
  return buildProgram(io, {});
}
