import { createInterface } from "node:readline";
import type { CliIo } from "./io.js";

/**
 * Asks on stderr and reads one line of stdin; only "y" or "yes" agrees. No stdin (a script,
 * CI) reads as "no", so a destructive command never goes ahead unattended without --yes.
 */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const { stdin } = io;
  if (!stdin) return answer(io, "");
  const lines = createInterface({ input: stdin, terminal: false });
  try {
    const line = await new Promise<string>((resolve) => {
      lines.once("line", resolve);
      lines.once("close", () => resolve(""));
      io.signal?.addEventListener("abort", () => resolve(""), { once: true });
    });
    return answer(io, line);
  } finally {
    lines.close();
  }
}

function answer(io: CliIo, line: string): boolean {
  // A terminal echoes the answer and its newline; a pipe does not, so the prompt line is ended here.
  if (!(io.stdin as { isTTY?: boolean } | undefined)?.isTTY) io.stderr.write(line ? `${line}\n` : "\n");
  return /^\s*y(es)?\s*$/i.test(line);
}
