import type { Command } from "commander";
import { parseDuration } from "../duration.js";
import { ExitCode } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { candidates } from "./candidates.js";
import { commandTree } from "./command-tree.js";
import { parseWords } from "./parse-words.js";

export const DEFAULT_COMPLETION_TIMEOUT_MS = 2000;

function timeoutOf(env: Record<string, string | undefined>): number {
  const text = env.VCLUSTER_API_COMPLETION_TIMEOUT;
  if (!text) return DEFAULT_COMPLETION_TIMEOUT_MS;
  try {
    return parseDuration(text, "VCLUSTER_API_COMPLETION_TIMEOUT");
  } catch {
    return DEFAULT_COMPLETION_TIMEOUT_MS;
  }
}

/**
 * The hidden `__complete` command, run before the parser sees the words, so whatever the user
 * typed (--help, a bad flag) is only looked at, never acted on.
 * Prints the candidates starting with the word being completed, one per line. Always succeeds
 * and never writes to stderr: a shell shows whatever a completion prints, so an unreachable
 * server or a broken config file just means no suggestions.
 */
export async function runComplete(program: Command, words: string[], io: CliIo): Promise<number> {
  const context = parseWords(commandTree(program), words.length > 0 ? words : [""]);
  let found: string[] = [];
  try {
    found = await candidates(context, io, timeoutOf(io.env));
  } catch {
    found = [];
  }
  const matching = found.filter((candidate) => candidate.startsWith(context.prefix));
  if (matching.length > 0) io.stdout.write(`${matching.join("\n")}\n`);
  return ExitCode.ok;
}
