import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Phase, VClusterService } from "@open-vcluster/api";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/index.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
const children: ChildProcess[] = [];

function start(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--no-warnings", bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /vcluster-api-server listening on (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

describe("vcluster-api-server bin", () => {
  beforeAll(() => {
    // The turbo test task builds first; running vitest alone needs `tsc -p tsconfig.build.json`.
    if (!existsSync(bin)) throw new Error(`the built bin is missing (${bin}): build the package first`);
  });

  it("keeps every acknowledged create across SIGKILL and resumes interrupted work", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "vc-crash-")), "vc.db");
    const first = await start(["--port", "0", "--store", `sqlite:${db}`, "--time-scale", "0"]);
    const client = createClient(VClusterService, createConnectTransport({ baseUrl: first.url, httpVersion: "1.1" }));
    const acknowledged: string[] = [];
    const burst = Array.from({ length: 40 }, (_, i) =>
      client.createVCluster({ name: `crash-${i}` }).then(
        () => acknowledged.push(`crash-${i}`),
        () => undefined,
      ),
    );
    while (acknowledged.length < 5) await new Promise((r) => setTimeout(r, 5));
    first.child.kill("SIGKILL");
    await Promise.all(burst);

    const second = await start(["--port", "0", "--store", `sqlite:${db}`, "--time-scale", "0"]);
    const again = createClient(VClusterService, createConnectTransport({ baseUrl: second.url, httpVersion: "1.1" }));
    for (const name of acknowledged) {
      const got = await again.getVCluster({ name });
      expect(got.vcluster?.name).toBe(name);
    }
    // Interrupted creates are carried on to RUNNING after the restart.
    let creating = -1;
    for (let i = 0; i < 200 && creating !== 0; i++) {
      const list = await again.listVClusters({ phases: [Phase.CREATING], pageSize: 1000 });
      creating = list.totalCount;
      if (creating !== 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(creating).toBe(0);
    second.child.kill("SIGTERM");
    const code = await new Promise((r) => second.child.once("exit", r));
    expect(code).toBe(0);
    const store = openStore(`sqlite:${db}`);
    expect((await store.listVClusters({}, "name", undefined, 1000)).total).toBeGreaterThanOrEqual(acknowledged.length);
    await store.close();
  });

  it("reads flags and environment variables", async () => {
    const { url, child } = await start(["--store", "memory"], { VCLUSTER_API_PORT: "0", VCLUSTER_API_TIME_SCALE: "0" });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    child.kill("SIGINT");
    expect(await new Promise((r) => child.once("exit", r))).toBe(0);
  });

  it("says how to pick another port when its port is taken", async () => {
    const { url } = await start(["--store", "memory", "--port", "0"]);
    const port = new URL(url).port;
    const second = spawn(process.execPath, ["--no-warnings", bin, "--store", "memory", "--port", port], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(second);
    let stderr = "";
    second.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((r) => second.once("exit", r))).toBe(1);
    expect(stderr).toContain("EADDRINUSE");
    expect(stderr).toContain("--port");
  });
});
