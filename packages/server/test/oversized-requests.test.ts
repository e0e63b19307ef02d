// A request over the size limit that connect-node refuses (here: JSON, which the fast path leaves
// to it) is answered with RESOURCE_EXHAUSTED, not a reset, and the connection then serves the next
// request: over HTTP/1.1 with a chunked body, so the read stops at the limit while the body is
// still arriving, and over HTTP/2.
import * as http from "node:http";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { VClusterService } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { expectError, testServer } from "./support.js";

const GET = "/vcluster.api.v1.VClusterService/GetVCluster";

function post(
  agent: http.Agent,
  url: string,
  body: string,
): Promise<{ status: number; body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${GET}`,
      { method: "POST", agent, headers: { "content-type": "application/json", "connect-protocol-version": "1" } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text, socket: request.socket }));
      },
    );
    request.on("error", reject);
    // Chunked, as streaming clients send: no length to refuse the request by before reading it.
    for (let at = 0; at < body.length; at += 64 * 1024) request.write(body.slice(at, at + 64 * 1024));
    request.end();
  });
}

describe("a request over the size limit", () => {
  it("is refused with RESOURCE_EXHAUSTED over HTTP/1.1, and the connection serves the next request", async () => {
    const server = await testServer({ maxRequestBytes: 64 * 1024 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Far more than arrives in the first reads, so the limit is hit while the body still comes.
      const tooBig = await post(agent, server.url, JSON.stringify({ name: "n".repeat(4 * 1024 * 1024) }));
      expect(tooBig.status).toBe(429);
      expect(JSON.parse(tooBig.body)).toMatchObject({ code: "resource_exhausted" });
      const next = await post(agent, server.url, JSON.stringify({ name: "missing" }));
      expect(next.status).toBe(404);
      expect(JSON.parse(next.body)).toMatchObject({ code: "not_found" });
      // One connection served both.
      expect(next.socket).toBe(tooBig.socket);
    } finally {
      agent.destroy();
    }
  });
});

describe("a request over the size limit over HTTP/2", () => {
  it("is refused with RESOURCE_EXHAUSTED, and the connection serves the next call", async () => {
    const server = await testServer({ maxRequestBytes: 64 * 1024 });
    // JSON takes connect-node's road, where the read stops at the limit.
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: false });
    const client = createClient(VClusterService, transport);
    const tooBig = await expectError(() => client.getVCluster({ name: "n".repeat(4 * 1024 * 1024) }));
    expect(tooBig.error.code).toBe(Code.ResourceExhausted);
    const next = await expectError(() => client.getVCluster({ name: "missing" }));
    expect(next.error.code).toBe(Code.NotFound);
  });
});
