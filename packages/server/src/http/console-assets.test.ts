import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsoleAssetsHandler } from "./console-assets.js";

const INDEX = "<!doctype html><title>console</title>";
let base: string;
let dir: string;
let server: http.Server;

/** A raw request, so paths reach the server exactly as written (fetch would normalise ".."). */
function get(path: string, headers: http.OutgoingHttpHeaders = {}, method = "GET") {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((done, fail) => {
    const req = http.request(`${base}/`, { method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

beforeAll(async () => {
  const parent = await mkdtemp(join(tmpdir(), "console-assets-"));
  dir = join(parent, "dist");
  await mkdir(join(dir, "assets"), { recursive: true });
  await writeFile(join(dir, "index.html"), INDEX);
  await writeFile(join(dir, "assets", "index-B4xk9_Qa.js"), "console.log(1)");
  await writeFile(join(dir, "favicon.svg"), "<svg/>");
  await writeFile(join(parent, "secret.txt"), "do not serve");
  const handle = createConsoleAssetsHandler(dir);
  server = http.createServer((req, res) => {
    if (handle(req, res)) return;
    res.writeHead(418);
    res.end("passed on");
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
  await rm(join(dir, ".."), { recursive: true, force: true });
});

describe("createConsoleAssetsHandler", () => {
  it("serves index.html at the root without caching", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("serves hashed assets as immutable with their content type", async () => {
    const res = await get("/assets/index-B4xk9_Qa.js");
    expect(res.status).toBe(200);
    expect(res.body).toBe("console.log(1)");
    expect(res.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("revalidates files without a content hash", async () => {
    const res = await get("/favicon.svg");
    expect(res.headers["content-type"]).toBe("image/svg+xml");
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("answers a matching If-None-Match with 304", async () => {
    const first = await get("/favicon.svg");
    const again = await get("/favicon.svg", { "if-none-match": first.headers.etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
  });

  it("falls back to index.html for the app's own routes", async () => {
    const res = await get("/vclusters/team-a/dev?tab=snapshots");
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("answers HEAD with headers only", async () => {
    const res = await get("/", {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers["content-length"]).toBe(String(INDEX.length));
    expect(res.body).toBe("");
  });

  it("gives 404, not the app, for a missing file", async () => {
    const res = await get("/assets/missing-12345678.js");
    expect(res.status).toBe(404);
  });

  it("passes on API routes, also as Connect GET requests, and health checks", async () => {
    expect((await get("/vcluster.api.v1.VClusterService/ListVClusters?connect=v1")).status).toBe(418);
    expect((await get("/healthz")).status).toBe(418);
    expect((await get("/readyz")).status).toBe(418);
  });

  it("passes on other methods", async () => {
    expect((await get("/", {}, "POST")).status).toBe(418);
  });

  it("never serves files outside its directory", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt"]) {
      const res = await get(path);
      expect(res.body, path).not.toContain("do not serve");
      expect(res.status, path).toBe(404);
    }
  });

  it("rejects undecodable and NUL paths", async () => {
    expect((await get("/%E0%A4%A")).status).toBe(400);
    expect((await get("/index.html%00.js")).status).toBe(400);
  });

  it("passes every request on while no app is built", async () => {
    const handle = createConsoleAssetsHandler(join(dir, "does-not-exist"));
    const fake = { method: "GET", url: "/", headers: {} } as http.IncomingMessage;
    expect(handle(fake, {} as http.ServerResponse)).toBe(false);
  });
});
