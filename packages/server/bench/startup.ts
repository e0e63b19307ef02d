import { spawn } from "node:child_process";
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
export async function benchStartup(size: number, runs: number): Promise<Summary> {
  const dir = tempDir();
  const spec = `sqlite:${dir.path}/startup.db` as const;
  try {
    const store = openStore(spec);
    await seed(store, 0, size);
    await store.close();
    const durations: number[] = [];
    for (let run = 0; run < runs; run++) durations.push(await startOnce(spec, size));
    return summarize(durations);
  } finally {
    dir.remove();
  }
}

async function startOnce(spec: string, size: number): Promise<number> {
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
    const elapsed = performance.now() - started;
    if (page.totalCount !== size) throw new Error(`expected ${size} vclusters, the server has ${page.totalCount}`);
    return elapsed;
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
