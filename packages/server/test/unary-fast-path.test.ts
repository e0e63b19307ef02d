// The unary fast path (src/http/rpc-handler.ts) beside connect-node: the same answers, errors and
// interceptor semantics on both roads, and gRPC messages that read cleanly in @grpc/grpc-js.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  GetVClusterRequestSchema,
  type GetVClusterResponse,
  GetVClusterResponseSchema,
  VClusterSchema,
  VClusterService,
} from "@open-vcluster/api";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { expectError, testServer } from "./support.js";

const GET = "/vcluster.api.v1.VClusterService/GetVCluster";

/** Clients of both roads: no deadline takes the fast path, a deadline goes through connect-node. */
function clients(baseUrl: string, protocol: "grpc" | "connect", httpVersion: "1.1" | "2" = "2") {
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl })
      : createConnectTransport({ baseUrl, httpVersion, useBinaryFormat: true });
  const client = createClient(VClusterService, transport);
  return {
    fast: client,
    viaConnect: {
      getVCluster: (req: Parameters<typeof client.getVCluster>[0]) => client.getVCluster(req, { timeoutMs: 60_000 }),
    },
  };
}

function grpcJsGet(port: number, request: { name: string; namespace: string }, deadline?: Date) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<{ response?: GetVClusterResponse; error?: grpc.ServiceError }>((resolve) => {
    client.makeUnaryRequest(
      GET,
      (value: { name: string; namespace: string }) =>
        Buffer.from(toBinary(GetVClusterRequestSchema, create(GetVClusterRequestSchema, value))),
      (bytes: Buffer) => fromBinary(GetVClusterResponseSchema, bytes),
      request,
      deadline ? { deadline } : {},
      (error, response) => {
        client.close();
        resolve(error ? { error } : { ...(response ? { response } : {}) });
      },
    );
  });
}

describe("unary fast path", () => {
  for (const [protocol, httpVersion] of [
    ["grpc", "2"],
    ["connect", "2"],
    ["connect", "1.1"],
  ] as const) {
    it(`answers ${protocol} over HTTP/${httpVersion} as connect-node does`, async () => {
      const server = await testServer();
      const c = clients(server.url, protocol, httpVersion);
      const created = await c.fast.createVCluster({ name: "same", namespace: "team", labels: { a: "1" } });
      const fast = await c.fast.getVCluster({ name: "same", namespace: "team" });
      const slow = await c.viaConnect.getVCluster({ name: "same", namespace: "team" });
      expect(fast.vcluster?.id).toBe(created.vcluster?.id);
      expect(
        equals(VClusterSchema, fast.vcluster ?? create(VClusterSchema), slow.vcluster ?? create(VClusterSchema)),
      ).toBe(true);

      let echoed: string | null = null;
      await c.fast.getVCluster(
        { name: "same", namespace: "team" },
        { headers: { "x-request-id": "caller-id-1" }, onHeader: (h) => (echoed = h.get("x-request-id")) },
      );
      expect(echoed).toBe("caller-id-1");

      const missingFast = await expectError(() => c.fast.getVCluster({ name: "js-missing", namespace: "js" }));
      const missingSlow = await expectError(() => c.viaConnect.getVCluster({ name: "js-missing", namespace: "js" }));
      expect(missingFast.error.code).toBe(Code.NotFound);
      expect(missingFast.error.rawMessage).toBe("vcluster js/js-missing not found");
      expect(missingFast.detail).toEqual(missingSlow.detail);
      expect(missingFast.error.rawMessage).toBe(missingSlow.error.rawMessage);

      const invalidFast = await expectError(() => c.fast.getVCluster({ name: "", namespace: "Not A Namespace" }));
      const invalidSlow = await expectError(() => c.viaConnect.getVCluster({ name: "", namespace: "Not A Namespace" }));
      expect(invalidFast.error.code).toBe(Code.InvalidArgument);
      expect(invalidFast.detail?.violations.length).toBeGreaterThan(0);
      expect(invalidFast.detail).toEqual(invalidSlow.detail);
    });
  }

  it("runs the request gate (auth), fault injection and the request log on the fast path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fast-path-"));
    const tokensFile = join(dir, "tokens.yaml");
    writeFileSync(tokensFile, "tokens:\n  - token: secret-token\n    subject: alice\n    admin: true\n");
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    const server = await testServer({ authTokensFile: tokensFile, logger: pino(sink) });
    const anonymous = createClient(VClusterService, createGrpcTransport({ baseUrl: server.url }));
    const refused = await expectError(() => anonymous.getVCluster({ name: "x" }));
    expect(refused.error.code).toBe(Code.Unauthenticated);

    const alice = createClient(
      VClusterService,
      createGrpcTransport({
        baseUrl: server.url,
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", "Bearer secret-token");
            return next(req);
          },
        ],
      }),
    );
    server.faults.rpc.inject({ procedure: "GetVCluster", code: Code.Unavailable });
    const injected = await expectError(() => alice.getVCluster({ name: "x" }));
    expect(injected.error.code).toBe(Code.Unavailable);
    const missing = await expectError(() => alice.getVCluster({ name: "x" }));
    expect(missing.error.code).toBe(Code.NotFound);

    await expect.poll(() => lines.filter((l) => l.procedure === GET).length, { timeout: 30_000 }).toBe(3);
    const logged = lines.filter((l) => l.procedure === GET);
    expect(logged.map((l) => l.code)).toEqual(["UNAUTHENTICATED", "UNAVAILABLE", "NOT_FOUND"]);
    expect(logged[2]?.principal).toBe("alice");
    // Every line carries the call's request id, which the response echoes.
    for (const line of logged) expect(line.requestId).toMatch(/^[\w-]{8,}$/);
  });

  it("refuses a body over the size limit with RESOURCE_EXHAUSTED and an ErrorDetail", async () => {
    const server = await testServer({ maxRequestBytes: 64 });
    for (const protocol of ["grpc", "connect"] as const) {
      const { fast } = clients(server.url, protocol);
      const tooBig = await expectError(() => fast.getVCluster({ name: "n".repeat(200) }));
      expect(tooBig.error.code).toBe(Code.ResourceExhausted);
      expect(tooBig.detail?.reason).toBe("RESOURCE_EXHAUSTED");
    }
  });
});

describe("@grpc/grpc-js client", () => {
  it("reads error messages as the server wrote them, on both roads", async () => {
    const server = await testServer();
    for (const deadline of [undefined, new Date(Date.now() + 60_000)]) {
      const { error } = await grpcJsGet(server.port, { name: "js-missing", namespace: "js" }, deadline);
      expect(error?.code).toBe(grpc.status.NOT_FOUND);
      expect(error?.details).toBe("vcluster js/js-missing not found");
    }
  });

  it("reads an empty request whose stream ended while the request gate was still deciding", async () => {
    // An authenticator that answers a few event-loop turns later, as a remote identity
    // provider does: an empty Connect message over HTTP/2 ends with its headers meanwhile.
    const server = await testServer({
      authenticator: {
        async authenticate() {
          for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
          return { subject: "slow", admin: true, projects: [] };
        },
      },
    });
    for (const httpVersion of ["1.1", "2"] as const) {
      const transport = createConnectTransport({ baseUrl: server.url, httpVersion, useBinaryFormat: true });
      const listed = await createClient(VClusterService, transport).listVClusters({});
      expect(listed.totalCount).toBe(0);
    }
  });

  it("gets the vcluster over the fast path", async () => {
    const server = await testServer();
    const c = createClient(VClusterService, createGrpcTransport({ baseUrl: server.url }));
    const created = await c.createVCluster({ name: "from-grpc-js", namespace: "js" });
    const { response, error } = await grpcJsGet(server.port, { name: "from-grpc-js", namespace: "js" });
    expect(error).toBeUndefined();
    expect(response?.vcluster?.id).toBe(created.vcluster?.id);
  });
});
