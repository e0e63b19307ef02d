import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openStore } from "@open-vcluster/server";
import { vclusterClient } from "./clients.ts";
import { seed, tempDir } from "./fixtures.ts";
import { type Summary, summarize } from "./stats.ts";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/**
 * Process start to the first served RPC: a SQLite file holding `size` vclusters, then `runs`
 * cold starts of the built server on it, each timed from spawn until a ListVClusters answer
 * arrives (the first call is made as soon as the server prints where it listens).
 */
export interface StartupResult {
  /** Wall time from spawn to the first answer. */
  wall: Summary;
  /** CPU time the server process had used by then (user + system; Linux only, else empty). */
  cpu: Summary;
}

export async function benchStartup(size: number, runs: number): Promise<StartupResult> {
  const dir = tempDir();
  const spec = `sqlite:${dir.path}/startup.db` as const;
  try {
    const store = openStore(spec);
    await seed(store, 0, size);
    await store.close();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      const result = await startOnce(spec, size);
      wall.push(result.wall);
      if (result.cpu !== undefined) cpu.push(result.cpu);
    }
    return { wall: summarize(wall), cpu: summarize(cpu) };
  } finally {
    dir.remove();
  }
}

/**
 * CPU milliseconds a process has used, from /proc (utime + stime, in clock ticks of 1/100 s as
 * Linux reports them to user space); undefined elsewhere. On a loaded machine the wall time
 * mostly measures waiting for a core; this is what the start itself costs.
 */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function startOnce(spec: string, size: number): Promise<{ wall: number; cpu: number | undefined }> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--no-warnings", BIN, "--port", "0", "--store", spec], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const found = /listening on (\S+)/.exec(out);
        if (found?.[1]) resolve(found[1]);
      });
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)));
    });
    const page = await vclusterClient(url, "connect-h1").listVClusters({ pageSize: 1 });
    const wall = performance.now() - started;
    const cpu = cpuMs(child.pid);
    if (page.totalCount !== size) throw new Error(`expected ${size} vclusters, the server has ${page.totalCount}`);
    return { wall, cpu };
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
