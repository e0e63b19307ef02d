import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ResponseHeaders, VClusterService } from "@open-vcluster/api";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { testServer } from "./support.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "bin.js");
let certFile = "";
let keyFile = "";
let cert = "";
let key = "";

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "vc-tls-"));
  certFile = join(dir, "c.pem");
  keyFile = join(dir, "k.pem");
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-days",
        "1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      { stdio: "pipe" },
    );
  } catch (error) {
    throw new Error(`these tests need the openssl command to make a certificate: ${(error as Error).message}`);
  }
  cert = readFileSync(certFile, "utf8");
  key = readFileSync(keyFile, "utf8");
});

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

function negotiated(port: number, protocols: string[]): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: cert, ALPNProtocols: protocols }, () => {
      resolve(socket.alpnProtocol);
      socket.destroy();
    });
    socket.on("error", reject);
  });
}

describe("TLS", () => {
  it("serves Connect over HTTP/1.1, gRPC over HTTP/2 and /healthz on one https port", async () => {
    const server = await testServer({ tls: { cert, key } });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await negotiated(server.port, ["h2", "http/1.1"])).toBe("h2");
    expect(await negotiated(server.port, ["http/1.1"])).toBe("http/1.1");

    const h1 = createClient(
      VClusterService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca: cert } }),
    );
    const grpc = createClient(VClusterService, createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca: cert } }));
    await h1.createVCluster({ name: "over-h1" });
    await grpc.createVCluster({ name: "over-h2" });
    const names = (await grpc.listVClusters({})).vclusters.map((v) => v.name);
    expect(names).toEqual(["over-h1", "over-h2"]);
    expect((await h1.getVCluster({ name: "over-h2" })).vcluster?.name).toBe("over-h2");

    const health = await httpsGet(`${server.url}/healthz`, cert);
    expect(health).toMatchObject({ status: 200, body: "ok\n" });
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(httpsGet(`${server.url}/healthz`, "")).rejects.toThrow();
  });

  describe("bin", () => {
    const children: ChildProcess[] = [];
    afterEach(() => {
      for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
    });

    it("serves https with --tls-cert/--tls-key and refuses one without the other", async () => {
      if (!existsSync(bin)) throw new Error(`the built bin is missing (${bin}): build the package first`);
      const child = spawn(
        process.execPath,
        [
          "--no-warnings",
          bin,
          "--port",
          "0",
          "--store",
          "memory",
          "--time-scale",
          "0",
          "--tls-cert",
          certFile,
          "--tls-key",
          keyFile,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      children.push(child);
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`bin exited ${code}`)));
      });
      expect(url).toMatch(/^https:\/\//);
      expect((await httpsGet(`${url}/healthz`, cert)).status).toBe(200);
      const client = createClient(VClusterService, createGrpcTransport({ baseUrl: url, nodeOptions: { ca: cert } }));
      expect((await client.listVClusters({})).totalCount).toBe(0);
      child.kill("SIGTERM");
      expect(await new Promise((r) => child.once("exit", r))).toBe(0);

      const half = spawn(process.execPath, ["--no-warnings", bin, "--port", "0", "--tls-cert", certFile], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(half);
      let err = "";
      half.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      expect(await new Promise((r) => half.once("exit", r))).toBe(2);
      expect(err).toContain("--tls-cert and --tls-key go together");
    });
  });
});

describe("CORS", () => {
  const allowed = "https://console.example.com";
  const listPath = "/vcluster.api.v1.VClusterService/ListVClusters";

  it("answers preflights from allowed origins with Connect's methods and headers, and refuses others", async () => {
    const server = await testServer({ corsOrigins: [allowed] });
    const preflight = (origin: string) =>
      fetch(`${server.url}${listPath}`, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "content-type,connect-protocol-version,authorization",
        },
      });
    const ok = await preflight(allowed);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(ok.headers.get("vary")).toContain("Origin");
    const methods = (ok.headers.get("access-control-allow-methods") ?? "").split(/,\s*/);
    expect(methods).toEqual(expect.arrayContaining(["POST", "GET"]));
    const headers = (ok.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(headers).toEqual(
      expect.arrayContaining(["content-type", "connect-protocol-version", "authorization", "x-grpc-web"]),
    );
    const exposed = (ok.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining([ResponseHeaders.resourceVersion, "grpc-status", "grpc-message"]));

    const refused = await preflight("https://evil.example.com");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("lets an allowed origin call Connect and read the resource-version header", async () => {
    const server = await testServer({ corsOrigins: [allowed] });
    const call = (origin: string) =>
      fetch(`${server.url}${listPath}`, {
        method: "POST",
        headers: { Origin: origin, "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
        body: "{}",
      });
    const res = await call(allowed);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain(ResponseHeaders.resourceVersion);
    expect(res.headers.get(ResponseHeaders.resourceVersion)).toBe("0");
    expect(await res.json()).toEqual({});

    // Other origins get no CORS headers, so a browser withholds the response from the page.
    const other = await call("https://evil.example.com");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await other.body?.cancel();
  });
});
