import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

export interface BackgroundProcess {
  /** The first capture group of `ready` in the process's output. */
  readonly ready: string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running process and waits until its stdout or stderr matches `ready`; fails with
 * the output so far when it exits first or does not get ready in time.
 */
export async function startBackground(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<BackgroundProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} was not ready in time:\n${output}`));
    }, options.timeoutMs ?? 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = options.ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(" ")} exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { ready, stop: () => stopProcess(child) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
