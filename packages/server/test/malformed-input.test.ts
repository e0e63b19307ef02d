import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CreateVClusterRequestSchema, ListVClustersRequestSchema, Phase } from "@open-vcluster/api";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/index.js";
import { clientsFor, expectError, type Protocol, testServer, transportFor } from "./support.js";
import { closeWireSessions, envelope, send, type WireProtocol } from "./wire.js";

afterAll(closeWireSessions);

const LIST = "/vcluster.api.v1.VClusterService/ListVClusters";
const utf8 = (text: string) => new TextEncoder().encode(text);

/** A logger that keeps its JSON lines for the test to read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("malformed request bytes", () => {
  const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  const badUtf8 = new Uint8Array([0x0a, 0x02, 0xc3, 0x28]); // namespace = bytes C3 28
  const valid = toBinary(ListVClustersRequestSchema, create(ListVClustersRequestSchema));
  const over: [string, WireProtocol, Uint8Array, Record<string, string>][] = [
    ["Connect", "connect-proto", garbage, { "content-type": "application/proto" }],
    ["gRPC", "grpc", envelope(garbage), { "content-type": "application/grpc+proto" }],
    ["gRPC-Web", "grpc-web", envelope(garbage), { "content-type": "application/grpc-web+proto" }],
  ];

  it.each(over)("answers INVALID_ARGUMENT for garbage over %s, and logs it", async (_, protocol, body, headers) => {
    const { logger, lines } = capturedLogger();
    const server = await testServer({ logger });
    const answer = await send(server.url, protocol, { path: LIST, body, headers });
    expect(answer.code).toBe(Code.InvalidArgument);
    if (protocol === "connect-proto") expect(answer.status).toBe(400);
    expect(answer.detail?.reason).toBe("MALFORMED_REQUEST");
    expect(answer.message).toContain("not a valid vcluster.api.v1.ListVClustersRequest");
    const entry = lines.find((l) => l.procedure === LIST);
    expect(entry).toMatchObject({ level: 30, code: "INVALID_ARGUMENT", reason: "MALFORMED_REQUEST" });
  });

  it.each([
    ["Connect", "connect-proto", badUtf8, { "content-type": "application/proto" }],
    ["gRPC", "grpc", envelope(badUtf8), { "content-type": "application/grpc+proto" }],
    ["gRPC-Web", "grpc-web", envelope(badUtf8), { "content-type": "application/grpc-web+proto" }],
    [
      "Connect JSON",
      "connect-json",
      utf8('{"namespace":"\u0000"}').map((b) => (b === 0 ? 0xc3 : b)),
      {
        "content-type": "application/json",
      },
    ],
  ] as const)("refuses invalid UTF-8 in a string field over %s", async (_, protocol, body, headers) => {
    const server = await testServer();
    const answer = await send(server.url, protocol, { path: LIST, body, headers });
    expect(answer.code).toBe(Code.InvalidArgument);
    expect(answer.message).toMatch(/not valid UTF-8/);
  });

  it("refuses a bad Connect GET encoding with HTTP 400, and logs it", async () => {
    const { logger, lines } = capturedLogger();
    const server = await testServer({ logger });
    const query = "connect=v1&encoding=proto&base64=1&message=%25%25%25%25";
    const answer = await send(server.url, "connect-proto", { path: LIST, body: new Uint8Array(), query });
    expect(answer.status).toBe(400);
    expect(answer.code).toBe(Code.InvalidArgument);
    expect(answer.message).toMatch(/not valid base64/);
    expect(lines.find((l) => l.procedure === LIST)).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it.each([
    ["gRPC", "grpc", "application/grpc+proto"],
    ["gRPC-Web", "grpc-web", "application/grpc-web+proto"],
  ] as const)("answers the framing mistakes of %s with the documented codes", async (_, protocol, type) => {
    const server = await testServer();
    const headers = { "content-type": type };
    const ask = async (body: Uint8Array) => (await send(server.url, protocol, { path: LIST, body, headers })).code;
    expect(await ask(envelope(valid, 1))).toBe(Code.InvalidArgument); // compressed, nothing negotiated
    expect(await ask(envelope(valid, 0, valid.length + 10))).toBe(Code.InvalidArgument); // truncated
    expect(await ask(new Uint8Array([0, 0]))).toBe(Code.InvalidArgument); // truncated header
    expect(await ask(new Uint8Array())).toBe(Code.InvalidArgument); // no message
    expect(await ask(new Uint8Array([...envelope(valid), ...envelope(valid)]))).toBe(Code.InvalidArgument);
    expect(await ask(envelope(valid, 0, 0x7fff_ffff))).toBe(Code.ResourceExhausted); // above readMaxBytes
  });
});

describe("enum values", () => {
  it("refuses an unknown enum name in a repeated JSON filter, naming the field", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    await c.vc.createVCluster({ name: "one" });
    const answer = await send(server.url, "connect-json", {
      path: LIST,
      body: utf8('{"phases":["PHASE_RUNNING","PHASE_UNKNOWN"]}'),
      headers: { "content-type": "application/json" },
    });
    expect(answer.status).toBe(400);
    expect(answer.code).toBe(Code.InvalidArgument);
    expect(answer.detail?.field).toBe("phases");
    expect(answer.detail?.violations[0]?.description).toContain(
      '"PHASE_UNKNOWN" is not a value of vcluster.api.v1.Phase',
    );
  });

  it("refuses an unknown JSON field instead of ignoring it, naming it", async () => {
    const server = await testServer();
    const answer = await send(server.url, "connect-json", {
      path: LIST,
      body: utf8('{"labelSelecter":"team=a"}'),
      headers: { "content-type": "application/json" },
    });
    expect(answer.code).toBe(Code.InvalidArgument);
    expect(answer.detail?.field).toBe("labelSelecter");
  });

  it.each(["connect", "grpc", "grpc-web"] as const)("refuses an unknown enum number over %s", async (protocol) => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, protocol));
    const refused = await expectError(() => c.vc.listVClusters({ phases: [Phase.RUNNING, 99 as Phase] }));
    expect(refused.error.code).toBe(Code.InvalidArgument);
    expect(refused.detail?.field).toBe("phases[1]");
  });
});

describe("error size", () => {
  it("answers a 1 MiB id over gRPC with INVALID_ARGUMENT in trailers of bounded size", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    const refused = await expectError(() => c.snap.getSnapshot({ id: "x".repeat(1 << 20) }));
    expect(refused.error.code).toBe(Code.InvalidArgument);
    const raw = await send(server.url, "grpc", {
      path: "/vcluster.api.v1.SnapshotService/GetSnapshot",
      body: envelope(new Uint8Array([0x0a, ...[0x80, 0x80, 0x40], ...new Uint8Array(1 << 20).fill(0x78)])),
    });
    expect(raw.code).toBe(Code.InvalidArgument);
    expect(raw.errorBytes).toBeLessThan(8 * 1024);
    expect(refused.detail?.field).toBe("id");
    expect(refused.error.rawMessage.length).toBeLessThan(300);
    expect(refused.detail?.violations[0]?.description).toContain("(1048576 characters)");
  });

  it("keeps the error for 5,000 bad plugin configs small and says how many it left out", async () => {
    const server = await testServer();
    const plugins = Array.from({ length: 5000 }, (_, i) => ({ name: `p${i}`, config: "{not: yaml: at all" }));
    const request = { name: "plugged", spec: { plugins } };
    const requestBytes = JSON.stringify(request).length;
    const answer = await send(server.url, "connect-json", {
      path: "/vcluster.api.v1.VClusterService/CreateVCluster",
      body: utf8(JSON.stringify(request)),
      headers: { "content-type": "application/json" },
    });
    expect(answer.code).toBe(Code.InvalidArgument);
    expect(answer.errorBytes).toBeLessThan(16 * 1024);
    expect(answer.errorBytes).toBeLessThan(requestBytes / 10);
    const detail = answer.detail;
    expect(detail?.violations[0]?.field).toBe("spec.plugins[0].config");
    expect((detail?.violations.length ?? 0) + (detail?.omittedViolations ?? 0)).toBe(5000);
    expect(detail?.omittedViolations).toBeGreaterThan(0);
    // Over gRPC the same error travels in trailers, which clients commonly cap at 8 KiB.
    const overGrpc = await send(server.url, "grpc", {
      path: "/vcluster.api.v1.VClusterService/CreateVCluster",
      body: envelope(toBinary(CreateVClusterRequestSchema, create(CreateVClusterRequestSchema, request))),
    });
    expect(overGrpc.code).toBe(Code.InvalidArgument);
    expect(overGrpc.errorBytes).toBeLessThan(8 * 1024);
    const c = clientsFor(transportFor(server, "grpc"));
    expect((await c.vc.listVClusters({})).totalCount).toBe(0);
  });
});

describe("violations", () => {
  it.each(["connect", "grpc", "grpc-web"] as const satisfies readonly Protocol[])(
    "reports every violation in order over %s, the first also in field",
    async (protocol) => {
      const server = await testServer();
      const c = clientsFor(transportFor(server, protocol));
      const refused = await expectError(() =>
        c.vc.createVCluster({
          name: "Bad_Name",
          namespace: "-ns",
          spec: { replicas: 99, resources: { memoryLimit: "99999999999999999999Ei" } },
          timeoutSeconds: -1,
        }),
      );
      expect(refused.error.code).toBe(Code.InvalidArgument);
      const fields = refused.detail?.violations.map((v) => v.field);
      expect(fields).toEqual([
        "name",
        "namespace",
        "spec.resources.memory_limit",
        "spec.replicas",
        "spec.replicas", // and again: more than one replica needs etcd
        "timeout_seconds",
      ]);
      expect(refused.detail?.field).toBe("name");
      expect(refused.detail?.omittedViolations).toBe(0);
      expect(refused.detail?.metadata).toEqual({});
      // The message lists what fits in a short line and points to the detail for the rest.
      expect(refused.error.rawMessage).toMatch(
        /^name: must be a DNS-1123 label.*; and 2 more \(see the error detail\)$/,
      );
    },
  );

  it("refuses quantities beyond what Kubernetes accepts and creates nothing", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    for (const resources of [
      { memoryLimit: "99999999999999999999Ei" },
      { cpuLimit: "10P" },
      { memoryRequest: "8Ei" },
    ]) {
      const refused = await expectError(() => c.vc.createVCluster({ name: "absurd", spec: { resources } }));
      expect(refused.error.code).toBe(Code.InvalidArgument);
      expect(refused.detail?.field).toMatch(/^spec\.resources\./);
    }
    expect((await c.vc.listVClusters({})).totalCount).toBe(0);
    await c.vc.createVCluster({ name: "large", spec: { resources: { memoryRequest: "1Ei", memoryLimit: "7Ei" } } });
  });
});

describe("failure logging", () => {
  it("logs a failure that is not an API error at error level with its cause", async () => {
    const { logger, lines } = capturedLogger();
    const healthy = openStore("memory");
    let failing = false;
    const broken = new Proxy(healthy, {
      get(target, key) {
        // The handler lists inside a consistent read (store.read), or directly.
        if ((key === "listVClusters" || key === "read") && failing) {
          return () => {
            throw new TypeError("the disk is on fire");
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Store;
    const server = await testServer({ logger, store: broken });
    failing = true;
    const c = clientsFor(transportFor(server, "grpc"));
    const failed = await expectError(() => c.vc.listVClusters({}));
    expect(failed.error.code).toBe(Code.Internal);
    const entry = lines.find((l) => l.procedure === LIST) as { level: number; code: string; err?: { message: string } };
    expect(entry.level).toBe(50);
    expect(entry.code).toBe("INTERNAL");
    expect(entry.err?.message).toBe("the disk is on fire");
  });
});
