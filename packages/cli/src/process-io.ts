import { homedir } from "node:os";
import type { CliIo } from "./io.js";

/** The real process: its streams and environment, and a signal that Ctrl-C (or SIGTERM) fires. */
export function processIo(signal?: AbortSignal): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    homeDir: homedir(),
    ...(signal ? { signal } : {}),
  };
}
