import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningServer, type ServerOptions, startServer } from "@open-vcluster/server";
import { afterAll, beforeAll, expect } from "vitest";

/** The built executable: these tests exercise what users install. */
export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  input?: string;
}

/** A test's private world: its own home and config file, so nothing leaks between tests or from the host. */
export class CliSandbox {
  private constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  static async create(env: Record<string, string> = {}): Promise<CliSandbox> {
    const dir = await mkdtemp(join(tmpdir(), "vcluster-api-cli-"));
    return new CliSandbox(dir, { HOME: dir, VCLUSTER_API_CONFIG: join(dir, "config.yaml"), ...env });
  }

  run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    return runCli(args, { ...options, env: { ...this.env, ...options.env } });
  }

  /** Starts a long-running command (e.g. a watch) that the test reads while it runs. */
  start(args: string[], options: CliOptions = {}): CliProcess {
    return startCli(args, { ...options, env: { ...this.env, ...options.env } });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  dispose(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** A running CLI process: its output so far, a way to wait for some of it, and its end. */
export interface CliProcess {
  readonly stdout: string;
  /** Resolves once stdout matches; rejects when the process ends first. */
  waitForStdout(pattern: RegExp): Promise<void>;
  /** Interrupts the process as Ctrl-C would. */
  interrupt(): void;
  readonly result: Promise<CliResult>;
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  // Only PATH is inherited: the host's VCLUSTER_API_* settings must not change the outcome.
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let ended = false;
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of watchers) watcher();
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      ended = true;
      notify();
      resolve({ code, stdout, stderr });
    });
  });
  child.stdin.end(options.input ?? "");
  return {
    get stdout() {
      return stdout;
    },
    result,
    interrupt: () => child.kill("SIGINT"),
    waitForStdout: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            watchers.delete(check);
            resolve();
          } else if (ended) {
            watchers.delete(check);
            reject(new Error(`the command ended before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        watchers.add(check);
        check();
      }),
  };
}

export function startTestServer(options: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ host: "127.0.0.1", port: 0, store: "memory", timeScale: 0, logger: false, ...options });
}

/** A failed command prints a message, never a stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+:\d+:\d+/.test(text);
}

export interface CliAgainstServer {
  /** Runs the CLI, expects success without an error line, and returns its stdout. */
  ok(...args: string[]): Promise<string>;
  /** Runs the CLI with `-o json` and parses what it prints. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the CLI's JSON output.
  json(...args: string[]): Promise<any>;
  /** The sandbox of the suite (valid inside tests and hooks). */
  readonly sandbox: CliSandbox;
}

/**
 * Gives a test file one server and one sandbox pointed at it, started before its tests and
 * disposed after them.
 */
export function useCliAgainstServer(): CliAgainstServer {
  let server: RunningServer | undefined;
  let sandbox: CliSandbox | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    sandbox = await CliSandbox.create({
      VCLUSTER_API_SERVER: server.url,
      // Completion gives up on a slow server after 2 s by design; a loaded test machine is slow,
      // and these tests check the answers, not the give-up (one test sets its own short limit).
      VCLUSTER_API_COMPLETION_TIMEOUT: "10m",
    });
  });
  afterAll(async () => {
    await server?.close();
    await sandbox?.dispose();
  });
  const current = (): CliSandbox => {
    if (!sandbox) throw new Error("the CLI sandbox is only available inside tests and hooks");
    return sandbox;
  };
  const ok = async (...args: string[]) => {
    const result = await current().run(args);
    expect(result.stderr, `${args.join(" ")} stderr`).not.toMatch(/error:/);
    expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  return {
    ok,
    json: async (...args: string[]) => JSON.parse(await ok(...args, "-o", "json")),
    get sandbox() {
      return current();
    },
  };
}
