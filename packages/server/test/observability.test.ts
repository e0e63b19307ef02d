import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Phase, VClusterService } from "@open-vcluster/api";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { clientsFor, expectError, testServer, transportFor } from "./support.js";

/** A metric's value in the Prometheus text format, by its name and exact label set. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split("\n")) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? "")
      .split(/,(?=[a-z_]+=")/)
      .filter(Boolean)
      .sort();
    if (got.length === wanted.length && got.every((pair, i) => pair === wanted[i])) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const VC = { service: "vcluster.api.v1.VClusterService" };

describe("GET /metrics", () => {
  it("counts and times RPCs by method and code, and counts vclusters by phase", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await c.vc.createVCluster({ name: "m1", waitForReady: true });
    await expectError(() => c.vc.getVCluster({ name: "missing" }));
    await server.api.idle();
    const text = await scrape(server.url);
    expect(sample(text, "vcluster_api_rpcs_total", { ...VC, method: "CreateVCluster", code: "OK" })).toBe(1);
    expect(sample(text, "vcluster_api_rpcs_total", { ...VC, method: "GetVCluster", code: "NOT_FOUND" })).toBe(1);
    expect(
      sample(text, "vcluster_api_rpc_duration_seconds_count", { ...VC, method: "CreateVCluster", code: "OK" }),
    ).toBe(1);
    expect(
      sample(text, "vcluster_api_rpc_duration_seconds_bucket", {
        ...VC,
        method: "GetVCluster",
        code: "NOT_FOUND",
        le: "+Inf",
      }),
    ).toBe(1);
    expect(sample(text, "vcluster_api_rpcs_in_flight", { ...VC, method: "CreateVCluster" })).toBe(0);
    expect(sample(text, "vcluster_api_vclusters", { phase: "RUNNING" })).toBe(1);
    expect(sample(text, "vcluster_api_vclusters", { phase: "SUSPENDED" })).toBe(0);
    expect(sample(text, "vcluster_api_lifecycle_operations_total", { kind: "create", outcome: "succeeded" })).toBe(1);
    const transactions = sample(text, "vcluster_api_store_operation_duration_seconds_count", {
      operation: "transaction",
      outcome: "ok",
    });
    expect(transactions).toBeGreaterThan(0);
  });

  it("counts provider failures and failed lifecycle operations", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    server.faults.provider.inject({ kind: "create", mode: "fail" });
    await c.vc.createVCluster({ name: "broken" });
    await server.api.idle();
    const text = await scrape(server.url);
    expect(sample(text, "vcluster_api_provider_errors_total", { kind: "create" })).toBe(1);
    expect(sample(text, "vcluster_api_lifecycle_operations_total", { kind: "create", outcome: "failed" })).toBe(1);
    expect(sample(text, "vcluster_api_vclusters", { phase: "ERROR" })).toBe(1);
  });

  it("shows open watch streams and in-flight calls while they last", async () => {
    const server = await testServer({ heartbeatIntervalMs: 60_000 });
    const c = clientsFor(transportFor(server, "connect"));
    await c.vc.createVCluster({ name: "watched", waitForReady: true });
    const abort = new AbortController();
    const stream = c.vc.watchVCluster({}, { signal: abort.signal })[Symbol.asyncIterator]();
    await stream.next(); // the stream is open once its first event arrived
    const open = await scrape(server.url);
    expect(sample(open, "vcluster_api_watch_streams_open")).toBe(1);
    expect(sample(open, "vcluster_api_rpcs_in_flight", { ...VC, method: "WatchVCluster" })).toBe(1);
    abort.abort();
    await stream.return?.();
    await expect
      .poll(async () => sample(await scrape(server.url), "vcluster_api_watch_streams_open"), { timeout: 60_000 })
      .toBe(0);
    await expect
      .poll(
        async () => sample(await scrape(server.url), "vcluster_api_rpcs_in_flight", { ...VC, method: "WatchVCluster" }),
        { timeout: 60_000 },
      )
      .toBe(0);
  });

  it("is one registry per server", async () => {
    const [a, b] = await Promise.all([testServer(), testServer()]);
    await clientsFor(transportFor(a, "connect")).vc.listVClusters({});
    const text = await scrape(b.url);
    expect(sample(text, "vcluster_api_rpcs_total", { ...VC, method: "ListVClusters", code: "OK" })).toBeUndefined();
  });

  it("answers 404 when metrics are turned off", async () => {
    const server = await testServer({ metrics: false });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});

describe("request ids", () => {
  it("are on every response: new ones, or the caller's echoed", async () => {
    const server = await testServer();
    const seen: string[] = [];
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          seen.push(res.header.get("x-request-id") ?? "");
          return res;
        },
      ],
    });
    await createClient(VClusterService, transport).listVClusters({});
    expect(seen[0]).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${server.url}/vcluster.api.v1.VClusterService/ListVClusters`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "trace-me.42" },
      body: "{}",
    });
    expect(echoed.headers.get("x-request-id")).toBe("trace-me.42");
    const failed = await fetch(`${server.url}/vcluster.api.v1.VClusterService/GetVCluster`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "failing-1" },
      body: JSON.stringify({ name: "nope" }),
    });
    expect(failed.status).toBe(404);
    expect(failed.headers.get("x-request-id")).toBe("failing-1");
    for (const path of ["/healthz", "/livez", "/readyz", "/version", "/metrics", "/nowhere"]) {
      expect((await fetch(`${server.url}${path}`)).headers.get("x-request-id"), path).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("replaces an id that is unsafe to log", async () => {
    const server = await testServer();
    const res = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "x".repeat(500) } });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("request log", () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    return { lines, logger: pino({ level: "info" }, stream) };
  }

  it("names the procedure without the query string, with one spelling of codes and the request id", async () => {
    const { lines, logger } = capture();
    const server = await testServer({ logger });
    const ids: string[] = [];
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      useHttpGet: true,
      interceptors: [
        (next) => async (req) => {
          try {
            const res = await next(req);
            ids.push(res.header.get("x-request-id") ?? "");
            return res;
          } catch (error) {
            ids.push((error as { metadata: Headers }).metadata.get("x-request-id") ?? "");
            throw error;
          }
        },
      ],
    });
    const client = createClient(VClusterService, transport);
    await client.listVClusters({ labelSelector: "team=a" });
    const missing = await expectError(() => client.getVCluster({ name: "absent" }));
    expect(missing.error.code).toBe(Code.NotFound);
    const rpcs = lines.filter((l) => l.msg === "rpc");
    expect(rpcs.map((l) => [l.procedure, l.code, l.requestId])).toEqual([
      ["/vcluster.api.v1.VClusterService/ListVClusters", "OK", ids[0]],
      ["/vcluster.api.v1.VClusterService/GetVCluster", "NOT_FOUND", ids[1]],
    ]);
  });
});

describe("server paths", () => {
  it("answers /livez, /readyz and /version, and 404 for any other non-API path", async () => {
    const server = await testServer();
    const livez = await fetch(`${server.url}/livez`);
    expect([livez.status, await livez.text()]).toEqual([200, "ok\n"]);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const version = await fetch(`${server.url}/version`);
    expect(version.headers.get("content-type")).toBe("application/json");
    const pkg = (await import("../package.json", { with: { type: "json" } })).default;
    expect(await version.json()).toEqual({
      name: "@open-vcluster/server",
      version: pkg.version,
      node: process.version,
      api: "vcluster.api.v1",
    });
    for (const path of ["/", "/nowhere", "/metrics/extra", "/vcluster.api.v1.VClusterService"]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${server.url}/vcluster.api.v1.NoSuchService/Get`, { method: "POST" })).status).toBe(404);
  });

  it("with a console, serves the app only at its own routes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "console-"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
    const server = await testServer({ consoleDir: dir });
    for (const path of ["/", "/vclusters", "/vclusters/team-a/dev", "/vclusters/team-a/dev/"]) {
      const res = await fetch(`${server.url}${path}`);
      expect([res.status, res.headers.get("content-type")], path).toEqual([200, "text/html; charset=utf-8"]);
    }
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^# HELP /m);
    expect((await fetch(`${server.url}/livez`)).headers.get("content-type")).toMatch(/^text\/plain/);
    for (const path of ["/nowhere", "/vclusters/a/b/c", "/settings", "/missing.js"]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("phases are counted for every phase the API defines", async () => {
    const server = await testServer();
    const text = await scrape(server.url);
    const phases = Object.values(Phase).filter((p) => typeof p === "string" && p !== "UNSPECIFIED");
    for (const phase of phases)
      expect(sample(text, "vcluster_api_vclusters", { phase: String(phase) }), String(phase)).toBe(0);
  });
});
