import type { Readable } from "node:stream";

/** Where a command writes; a plain object in tests, the process streams in the executable. */
export interface OutputStream {
  write(text: string): unknown;
  /** Whether the stream is an interactive terminal (progress lines are then rewritten in place). */
  isTTY?: boolean;
}

/** Everything a command may touch outside itself, so the program can run in-process in tests. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Read by `-f -`. */
  stdin?: Readable;
  env: Record<string, string | undefined>;
  /** Home directory, for the default configuration file. */
  homeDir: string;
  /** Ends long-running commands (watch, serve, waits) as Ctrl-C does. */
  signal?: AbortSignal;
}
