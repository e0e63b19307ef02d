import { CommanderError } from "commander";
import { COMPLETE_COMMAND } from "./completion/callback-keys.js";
import { runComplete } from "./completion/complete-command.js";
import { describeError, exitCodeFor } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import type { CliIo } from "./io.js";
import { buildProgram } from "./program.js";
import type { RunState } from "./session.js";

/**
 * Runs the command line and returns the exit code; never throws and never exits the process,
 * so tests and embedding programs can call it directly.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const state: RunState = {};
  const program = buildProgram(io, state);
  if (argv[0] === COMPLETE_COMMAND) return runComplete(program, argv.slice(1), io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    // Commander has already printed its message (or the help / version text).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    for (const line of describeError(error, state.serverUrl)) io.stderr.write(`${line}\n`);
    return exitCodeFor(error);
  }
}
