import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

interface Started {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
}

function start(args: string[], env: Record<string, string> = {}): Promise<Started> {
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
      if (m?.[1]) resolve({ child, url: m[1], stdout: () => out });
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
    await expect
      .poll(async () => (await again.listVClusters({ phases: [Phase.CREATING], pageSize: 1000 })).totalCount, {
        timeout: 120_000,
      })
      .toBe(0);
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

const exited = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once("exit", r));

describe("vcluster-api-server bin: operations", () => {
  it("exports traces over OTLP when the OpenTelemetry variables ask for it, flushing them on shutdown", async () => {
    const posts: { path: string; type: string; body: Buffer }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        posts.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const { url, child } = await start(["--port", "0", "--store", "memory", "--time-scale", "0"], {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_SERVICE_NAME: "vc-under-test",
      });
      const client = createClient(VClusterService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
      await client.createVCluster({ name: "traced", waitForReady: true });
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
      const traces = posts.filter((p) => p.path === "/v1/traces");
      expect(traces.length).toBeGreaterThan(0);
      expect(traces.every((p) => p.type === "application/x-protobuf")).toBe(true);
      // Protobuf keeps strings as UTF-8 bytes, so the span and service names are visible in the body.
      const body = Buffer.concat(traces.map((p) => p.body)).toString("latin1");
      for (const text of ["vcluster.api.v1.VClusterService/CreateVCluster", "store.transaction", "provider.create"])
        expect(body).toContain(text);
      expect(body).toContain("vc-under-test");
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it("logs each RPC with its request id at info level, and not at --log-level warn", async () => {
    const run = async (level: string) => {
      const { url, child, stdout } = await start(["--port", "0", "--store", "memory", "--log-level", level]);
      const res = await fetch(`${url}/vcluster.api.v1.VClusterService/ListVClusters`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": `list-${level}` },
        body: "{}",
      });
      expect(res.status).toBe(200);
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
      return stdout()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const info = await run("info");
    expect(info.find((l) => l.msg === "rpc")).toMatchObject({
      procedure: "/vcluster.api.v1.VClusterService/ListVClusters",
      code: "OK",
      requestId: "list-info",
    });
    const warn = await run("warn");
    expect(warn.filter((l) => (l.level as number) < 40)).toEqual([]);
  });

  it("reads a config file, with flags winning over it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vc-config-"));
    const file = join(dir, "server.yaml");
    writeFileSync(file, "port: 0\nstore: memory\nlog-level: warn\n");
    const { url, child, stdout } = await start(["--config", file, "--log-level", "info"]);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    await fetch(`${url}/vcluster.api.v1.VClusterService/ListVClusters`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(stdout()).toContain('"msg":"rpc"');
  });
});
