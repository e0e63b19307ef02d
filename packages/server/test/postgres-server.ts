import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/**
 * A real PostgreSQL server for tests: a fresh data directory in a temporary folder, listening
 * on a loopback port, stopped (and its folder removed) by `stop`. The binaries come from the
 * machine (Debian's postgresql package, installed with apt-get when missing and running as
 * root). As root, initdb and postgres run as the unprivileged `postgres` user (which the
 * package creates), since they refuse to run as root.
 */
export class PostgresServer {
  readonly dir: string;
  readonly port: number;
  private child: ChildProcess | undefined;
  private readonly bin: string;
  private readonly runAs: string | undefined;

  private constructor(bin: string, dir: string, port: number, runAs: string | undefined) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.runAs = runAs;
  }

  static async start(): Promise<PostgresServer> {
    const bin = postgresBinaries();
    const runAs = userInfo().uid === 0 ? "postgres" : undefined;
    const dir = mkdtempSync(join(tmpdir(), "open-vcluster-pg-"));
    if (runAs) execFileSync("chown", [runAs, dir]);
    const server = new PostgresServer(bin, dir, await freePort(), runAs);
    server.run("initdb", ["-D", server.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await server.startProcess();
    return server;
  }

  get dataDir(): string {
    return join(this.dir, "data");
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** A new empty database on this server; its URL. */
  createDatabase(name: string): string {
    this.run("psql", [
      "-h",
      "127.0.0.1",
      "-p",
      String(this.port),
      "-U",
      "postgres",
      "-qc",
      `CREATE DATABASE "${name}"`,
    ]);
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  private command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.bin, tool);
    // setpriv execs the tool itself (no wrapper process), so signals reach postgres directly.
    return this.runAs
      ? ["setpriv", ["--reuid", this.runAs, "--regid", this.runAs, "--clear-groups", "--", path, ...args]]
      : [path, args];
  }

  private run(tool: string, args: string[]): void {
    const [cmd, argv] = this.command(tool, args);
    execFileSync(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
  }

  private async startProcess(): Promise<void> {
    const [cmd, argv] = this.command("postgres", [
      "-D",
      this.dataDir,
      "-p",
      String(this.port),
      "-h",
      "127.0.0.1",
      "-k",
      this.dir,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ]);
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("ready to accept connections")) {
          child.stderr?.off("data", onData);
          resolve();
        }
      };
      child.stderr?.on("data", onData);
      child.once("exit", (code) => reject(new Error(`postgres exited (${code}): ${log}`)));
    });
    // Keep draining its log so the pipe never fills.
    child.stderr?.resume();
  }

  /** Stops the server at once (as a crash would), keeping its data. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGQUIT");
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The directory of initdb and postgres; installs Debian's package when none is found. */
function postgresBinaries(): string {
  const found = findBinaries();
  if (found) return found;
  if (userInfo().uid === 0 && existsSync("/usr/bin/apt-get")) {
    // Test files start servers in parallel: one installs, the others wait for the lock and
    // then find it installed.
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = "apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=600 postgresql >/dev/null";
    execFileSync("flock", [join(tmpdir(), "open-vcluster-postgresql-install.lock"), "sh", "-c", install], {
      stdio: ["ignore", "inherit", "inherit"],
      env,
    });
    const installed = findBinaries();
    if (installed) return installed;
  }
  throw new Error("PostgreSQL server binaries not found: install Debian's postgresql package");
}

function findBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
