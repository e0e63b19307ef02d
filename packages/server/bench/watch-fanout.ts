import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Annotations, type VCluster } from "@open-vcluster/api";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { benchVCluster, storeSpec, tempDir } from "./fixtures.ts";
import type { StoreKind } from "./list-pages.ts";
import { collectGarbage, type Summary } from "./stats.ts";

const CLIENTS = fileURLToPath(new URL("./watch-clients.ts", import.meta.url));
const SENT_ANNOTATION = "bench/sent";
const NAMESPACE = "watched";

export interface FanoutResult {
  store: StoreKind;
  watchers: number;
  changes: number;
  /** Per delivery (one watcher, one change): from just before the commit until receipt. */
  latency: Summary;
  /** From the first commit until every watcher had every change. */
  drainMs: number;
  /** Events delivered per second over the drain. */
  eventsPerSecond: number;
  /** Server heap growth per open, idle watch (the clients run in another process). */
  heapPerWatcher: number;
  /**
   * The server process's CPU time (user + system) from the first commit until every watcher
   * had every change, per delivered event, in µs: unlike events/s, it does not drift with what
   * else the machine runs.
   */
  cpuPerEvent: number;
  /**
   * The watchers' process CPU time from "ready" to its report, per delivered event, in µs:
   * near the drain's length, it says the measuring process, not the server, set the figure.
   */
  watcherCpuPerEvent: number;
}

/** The watchers' process: its "ready" and "all <version>" lines, and its final report. */
class Watchers {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<string, () => void>();
  readonly #seen = new Set<string>();
  #report: ((line: string) => void) | undefined;
  readonly #exited: Promise<never>;

  constructor(url: string, watchers: number) {
    this.#child = spawn(process.execPath, ["--no-warnings", CLIENTS, url, String(watchers), NAMESPACE], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    this.#child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.#exited = new Promise((_, reject) => {
      this.#child.once("exit", (code) => reject(new Error(`watch clients exited (${code}): ${stderr}`)));
    });
    this.#exited.catch(() => undefined);
    createInterface({ input: this.#child.stdout }).on("line", (line) => {
      if (line.startsWith("{")) this.#report?.(line);
      this.#seen.add(line);
      this.#waiting.get(line)?.();
    });
  }

  /** Resolves once the child printed `line`. */
  line(line: string): Promise<void> {
    if (this.#seen.has(line)) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => this.#waiting.set(line, resolve)), this.#exited]);
  }

  async report(): Promise<{ latency: Summary; firstSent: number; lastReceived: number; cpuSinceReady: number }> {
    const line = new Promise<string>((resolve) => (this.#report = resolve));
    this.#child.stdin.write("report\n");
    return JSON.parse(await Promise.race([line, this.#exited]));
  }

  stop(): void {
    if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
  }
}

/** The writer's objects, built before the clock starts: building them is not the server's work. */
function changesToCommit(changes: number): VCluster[] {
  return Array.from({ length: changes }, (_, i) => {
    const vcluster = benchVCluster(i);
    vcluster.namespace = NAMESPACE;
    return vcluster;
  });
}

async function commit(server: RunningServer, vcluster: VCluster): Promise<number> {
  vcluster.annotations[SENT_ANNOTATION] = String(performance.timeOrigin + performance.now());
  const stored = await server.store.transaction((tx) => tx.putVCluster(vcluster));
  return Number(stored.annotations[Annotations.resourceVersion]);
}

/**
 * `watchers` gRPC watch streams (in a child process) on an empty namespace of a server in this
 * process. A burst commits `changes` writes straight to the store, yielding to the event loop
 * every 10 commits as a busy RPC server would; `sequential` instead commits one change at a
 * time and waits until every watcher has it (the one-change latency, repeated). With `listed`,
 * the namespace holds that many vclusters before the watchers start, and each lists them first.
 */
export async function benchFanout(
  store: StoreKind,
  watchers: number,
  changes: number,
  mode: "burst" | "sequential" = "burst",
  listed = 0,
): Promise<FanoutResult> {
  const dir = tempDir();
  const server = await startServer({
    port: 0,
    timeScale: 0,
    logger: false,
    store: await storeSpec(store, dir.path),
    maxWatchersPerPrincipal: watchers + 10,
    // A burst is delivered in full, not cut off: the bench measures delivery, not the limit.
    watchQueueLimit: changes + 10,
  });
  for (const vcluster of changesToCommit(listed)) await commit(server, vcluster);
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const clients = new Watchers(server.url, watchers);
  try {
    await clients.line("ready");
    collectGarbage();
    const heapPerWatcher = (process.memoryUsage().heapUsed - before) / watchers;
    const toCommit = changesToCommit(changes);
    let last = 0;
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < changes; i++) {
      last = await commit(server, toCommit[i] as VCluster);
      if (mode === "sequential") await clients.line(`all ${last}`);
      else if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    await clients.line(`all ${last}`);
    const cpu = process.cpuUsage(cpuBefore);
    const report = await clients.report();
    const drainMs = report.lastReceived - report.firstSent;
    return {
      store,
      watchers,
      changes,
      latency: report.latency,
      drainMs,
      eventsPerSecond: (watchers * changes * 1000) / drainMs,
      heapPerWatcher,
      cpuPerEvent: (cpu.user + cpu.system) / (watchers * changes),
      watcherCpuPerEvent: report.cpuSinceReady / (watchers * changes),
    };
  } finally {
    clients.stop();
    await server.close();
    dir.remove();
  }
}
