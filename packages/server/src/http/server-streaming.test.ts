// The server-streaming fast path (server-streaming.ts) beside connect-node: real connect clients
// over gRPC, gRPC-Web and Connect get the same messages, headers, trailers and errors on both
// roads (a deadline sends a call to connect-node), interceptors and the request gate run,
// cancellation reaches the implementation, and a client that stops reading holds the
// implementation back instead of growing the server's buffers.
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  ErrorDetailSchema,
  VClusterSchema,
  VClusterService,
  WatchEventType,
  type WatchVClusterRequest,
  WatchVClusterRequestSchema,
  type WatchVClusterResponse,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { afterEach, describe, expect, it } from "vitest";
import { createOnePortServer } from "./one-port.js";
import { createRpcHandler } from "./rpc-handler.js";

const WATCH = "/vcluster.api.v1.VClusterService/WatchVCluster";

function message(i: number, payload = ""): WatchVClusterResponse {
  return create(WatchVClusterResponseSchema, {
    type: WatchEventType.MODIFIED,
    vcluster: create(VClusterSchema, { name: `vc-${i}`, namespace: "team", annotations: payload ? { payload } : {} }),
  });
}

/** What the test service's watch does, chosen by the request's name. */
interface Observed {
  calls: string[];
  /** Called after each entry in `calls`. */
  onCall: (() => void)[];
  ended: Map<string, () => void>;
  endedOnce: Map<string, Promise<void>>;
  pulled: number;
  /** Holds the "gated" script between its two messages until the test opens it. */
  gate: Promise<void>;
  open: () => void;
  /** One message object handed to every stream, as the watch hub hands out live events. */
  shared: WatchVClusterResponse;
}

function testService(observed: Observed) {
  return {
    async *watchVCluster(req: WatchVClusterRequest, ctx: { responseHeader: Headers; responseTrailer: Headers }) {
      const [script = "", arg = "0"] = req.name.split(":");
      const n = Number(arg);
      ctx.responseHeader.set("x-script", script);
      try {
        if (script === "gated") {
          // More than a stream's buffer holds but less than one coalesced write: the write that
          // fills the buffer happens after the loop asked for the next message. Then a pause in
          // which the client reads it all.
          yield message(0, "x".repeat(40 * 1024));
          await observed.gate;
          yield message(1);
          return;
        }
        if (script === "fail-before") {
          throw new ConnectError("refused before any message", Code.FailedPrecondition, { "x-why": "before" }, [
            { desc: ErrorDetailSchema, value: { reason: "NOT_NOW" } },
          ]);
        }
        for (let i = 0; script !== "endless" ? i < n : true; i++) {
          observed.pulled = i + 1;
          yield script === "big"
            ? message(i, "x".repeat(16 * 1024))
            : script === "shared"
              ? observed.shared
              : message(i);
        }
        if (script === "fail-after") throw new ConnectError("failed after some", Code.Aborted, { "x-why": "after" });
        ctx.responseTrailer.set("x-done", String(n));
      } finally {
        observed.ended.get(req.name)?.();
      }
    },
  };
}

const servers: { destroyAll(): void; stopAccepting(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.destroyAll();
    await server.stopAccepting();
  }
});

async function start(options: { interceptors?: boolean } = {}) {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const observed: Observed = {
    calls: [],
    onCall: [],
    gate,
    open,
    ended: new Map(),
    endedOnce: new Map(),
    pulled: 0,
    shared: message(0),
  };
  const recorder: Interceptor = (next) => async (req) => {
    observed.calls.push(`start ${req.method.name}`);
    try {
      const res = await next(req);
      if (!res.stream) return res;
      res.header.set("x-intercepted", "yes");
      return {
        ...res,
        message: (async function* () {
          let outcome = "cancelled";
          try {
            yield* res.message;
            outcome = "ok";
          } catch (error) {
            outcome = Code[ConnectError.from(error).code] ?? "?";
            throw error;
          } finally {
            observed.calls.push(`end ${outcome}`);
            for (const listener of observed.onCall) listener();
          }
        })(),
      };
    } catch (error) {
      observed.calls.push(`end ${Code[ConnectError.from(error).code]}`);
      throw error;
    }
  };
  const handler = createRpcHandler({
    routes: (router) => router.service(VClusterService, testService(observed) as never),
    interceptors: options.interceptors === false ? [] : [recorder],
    requestGate: (ctx) => {
      if (ctx.requestHeader.get("authorization") === "Bearer wrong") {
        throw new ConnectError("bad token", Code.Unauthenticated);
      }
    },
  });
  const server = createOnePortServer(handler);
  servers.push(server);
  const port = await server.listen(0, "127.0.0.1");
  /** Resolves when the implementation's stream named `name` has run its cleanup. */
  const ended = (name: string) => {
    let promise = observed.endedOnce.get(name);
    if (!promise) {
      promise = new Promise<void>((resolve) => observed.ended.set(name, resolve));
      observed.endedOnce.set(name, promise);
    }
    return promise;
  };
  /** Resolves once `calls` satisfies `done`. */
  const calls = (done: (calls: string[]) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => done(observed.calls) && resolve();
      observed.onCall.push(check);
      check();
    });
  return { url: `http://127.0.0.1:${port}`, port, observed, ended, calls };
}

type Wire = "grpc" | "grpc-web h2" | "grpc-web h1" | "connect h2" | "connect h1" | "connect json h1" | "grpc json";
const WIRES: Wire[] = [
  "grpc",
  "grpc json",
  "grpc-web h2",
  "grpc-web h1",
  "connect h2",
  "connect h1",
  "connect json h1",
];

function transport(baseUrl: string, wire: Wire): Transport {
  const useBinaryFormat = !wire.includes("json");
  const httpVersion = wire.endsWith("h1") ? "1.1" : "2";
  if (wire.startsWith("grpc-web")) return createGrpcWebTransport({ baseUrl, httpVersion, useBinaryFormat });
  if (wire.startsWith("grpc")) return createGrpcTransport({ baseUrl, useBinaryFormat });
  return createConnectTransport({ baseUrl, httpVersion, useBinaryFormat });
}

/** The whole stream as a client sees it: messages, headers, trailers and the error, if any. */
async function collect(
  baseUrl: string,
  wire: Wire,
  name: string,
  options: { timeoutMs?: number; token?: string } = {},
) {
  const client = createClient(VClusterService, transport(baseUrl, wire));
  const result: { names: string[]; header?: Headers; trailer?: Headers; error?: ConnectError } = { names: [] };
  try {
    for await (const event of client.watchVCluster(
      { name },
      {
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
        onHeader: (h) => (result.header = h),
        onTrailer: (t) => (result.trailer = t),
      },
    )) {
      result.names.push(event.vcluster?.name ?? "");
    }
  } catch (error) {
    result.error = ConnectError.from(error);
  }
  return result;
}

describe("server-streaming fast path", () => {
  for (const wire of WIRES) {
    it(`streams ${wire} as connect-node does, messages, headers, trailers and errors`, async () => {
      const { url, observed } = await start();
      for (const name of ["count:3", "count:0", "fail-before", "fail-after:2"]) {
        const fast = await collect(url, wire, name);
        // A deadline is not served by the fast path: connect-node answers this one.
        const viaConnect = await collect(url, wire, name, { timeoutMs: 60_000 });
        expect(fast.names).toEqual(viaConnect.names);
        expect(fast.error?.code).toBe(viaConnect.error?.code);
        expect(fast.error?.rawMessage).toBe(viaConnect.error?.rawMessage);
        expect(fast.error?.metadata.get("x-why") ?? null).toBe(viaConnect.error?.metadata.get("x-why") ?? null);
        expect(fast.error?.findDetails(ErrorDetailSchema)).toEqual(viaConnect.error?.findDetails(ErrorDetailSchema));
        expect(fast.trailer?.get("x-done")).toBe(viaConnect.trailer?.get("x-done"));
        if (!fast.error) {
          expect(fast.header?.get("x-script")).toBe(name.split(":")[0]);
          expect(fast.header?.get("x-intercepted")).toBe("yes");
        }
      }
      expect((await collect(url, wire, "count:3")).names).toEqual(["vc-0", "vc-1", "vc-2"]);
      const failed = await collect(url, wire, "fail-after:2");
      expect(failed.names).toEqual(["vc-0", "vc-1"]);
      expect(failed.error?.code).toBe(Code.Aborted);
      const refused = await collect(url, wire, "fail-before");
      expect(refused.names).toEqual([]);
      expect(refused.error?.code).toBe(Code.FailedPrecondition);
      expect(refused.error?.findDetails(ErrorDetailSchema)[0]?.reason).toBe("NOT_NOW");
      // The interceptor saw every call start and end, on both roads.
      expect(observed.calls.filter((c) => c.startsWith("start")).length).toBe(11);
      expect(observed.calls.filter((c) => c === "end ok").length).toBe(5);
      expect(observed.calls.filter((c) => c === "end Aborted").length).toBe(3);
      expect(observed.calls.filter((c) => c === "end FailedPrecondition").length).toBe(3);
    });
  }

  it("refuses at the request gate before reading the request, as connect does", async () => {
    const { url, observed } = await start();
    for (const wire of WIRES) {
      const fast = await collect(url, wire, "count:3", { token: "wrong" });
      const viaConnect = await collect(url, wire, "count:3", { token: "wrong", timeoutMs: 60_000 });
      expect(fast.error?.code).toBe(Code.Unauthenticated);
      expect(fast.error?.rawMessage).toBe(viaConnect.error?.rawMessage);
    }
    expect(observed.calls).toEqual([]);
  });

  it("hands the implementation's cancellation through when the client cancels mid-stream", async () => {
    const { url, observed, ended, calls } = await start();
    for (const wire of ["grpc", "connect h1", "grpc-web h2"] as const) {
      const name = `endless:${wire}`;
      const cleanedUp = ended(name);
      const abort = new AbortController();
      const client = createClient(VClusterService, transport(url, wire));
      let received = 0;
      try {
        for await (const _ of client.watchVCluster({ name }, { signal: abort.signal })) {
          if (++received === 5) abort.abort();
        }
      } catch (error) {
        expect(ConnectError.from(error).code).toBe(Code.Canceled);
      }
      await cleanedUp;
      expect(received).toBe(5);
    }
    // The interceptors see each cancelled stream end.
    await calls((c) => c.filter((entry) => entry === "end cancelled").length === 3);
    expect(observed.calls.filter((c) => c.startsWith("end"))).toEqual(Array(3).fill("end cancelled"));
  });

  it("serves a route without interceptors", async () => {
    const { url } = await start({ interceptors: false });
    for (const wire of WIRES) expect((await collect(url, wire, "count:2")).names).toEqual(["vc-0", "vc-1"]);
  });

  it("encodes a message handed to many streams once per codec", async () => {
    const { url, observed } = await start();
    // Every encoding of the shared message reads its `type`; the count shows how often it was encoded.
    let reads = 0;
    Object.defineProperty(observed.shared, "type", {
      get: () => {
        reads += 1;
        return WatchEventType.MODIFIED;
      },
    });
    expect((await collect(url, "grpc", "shared:3")).names).toEqual(["vc-0", "vc-0", "vc-0"]);
    const oneBinaryEncoding = reads;
    expect(oneBinaryEncoding).toBeGreaterThan(0);
    const binary = await Promise.all(
      ["grpc", "connect h2", "grpc-web h1"].map((w) => collect(url, w as Wire, "shared:3")),
    );
    for (const r of binary) expect(r.names).toEqual(["vc-0", "vc-0", "vc-0"]);
    expect(reads).toBe(oneBinaryEncoding);
    await collect(url, "connect json h1", "shared:3");
    const withJson = reads;
    expect(withJson).toBeGreaterThan(oneBinaryEncoding);
    const json = await Promise.all(["connect json h1", "grpc json"].map((w) => collect(url, w as Wire, "shared:3")));
    for (const r of json) expect(r.names).toEqual(["vc-0", "vc-0", "vc-0"]);
    expect(reads).toBe(withJson);
  });

  it("goes on after its buffer drained while the implementation had nothing to send", async () => {
    const { url, observed } = await start();
    // A small flow-control window: the server's write of the big message cannot go out at once,
    // so its buffer fills, and drains only as this client reads.
    const session = http2.connect(url, { settings: { initialWindowSize: 1024 } });
    try {
      const body = toBinary(WatchVClusterRequestSchema, create(WatchVClusterRequestSchema, { name: "gated" }));
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const stream = session.request({ ":method": "POST", ":path": WATCH, "content-type": "application/grpc+proto" });
      stream.end(frame);
      let received = Buffer.alloc(0);
      let firstComplete: (() => void) | undefined;
      const first = new Promise<void>((resolve) => (firstComplete = resolve));
      stream.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 5 && received.length >= 5 + received.readUInt32BE(1)) firstComplete?.();
      });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
      await first;
      // The big message is all here, and a whole other call has gone through since: whatever
      // the server buffered has drained while the implementation waited, before it has a second
      // message to send.
      await collect(url, "grpc", "count:1");
      observed.open();
      expect((await trailers)["grpc-status"]).toBe("0");
      const firstLength = 5 + received.readUInt32BE(1);
      expect(received.length).toBeGreaterThan(firstLength);
    } finally {
      session.destroy();
    }
  });

  it("does not run ahead of a client that stops reading", async () => {
    const { url, observed } = await start();
    const session = http2.connect(url);
    try {
      const body = toBinary(WatchVClusterRequestSchema, create(WatchVClusterRequestSchema, { name: "big:2000" }));
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const stream = session.request({ ":method": "POST", ":path": WATCH, "content-type": "application/grpc+proto" });
      stream.end(frame);
      // 2,000 messages of 16 KiB: a server that ignored backpressure would have taken all of
      // them before the first one reached the client (its loop never waits on the network).
      const bound = 64; // messages: flow-control window, socket and stream buffers, one coalesced write
      let bytes = 0;
      let lead = 0;
      let pulledAtFirst = 0;
      let paused: (() => void) | undefined;
      const firstArrived = new Promise<void>((resolve) => (paused = resolve));
      stream.on("data", (chunk: Buffer) => {
        if (bytes === 0) {
          stream.pause();
          pulledAtFirst = observed.pulled;
          paused?.();
        }
        bytes += chunk.length;
        // How far the implementation is ahead of what the client has read.
        lead = Math.max(lead, observed.pulled - bytes / (16 * 1024 + 30));
      });
      await firstArrived;
      expect(pulledAtFirst).toBeLessThan(bound);
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
      stream.resume();
      expect((await trailers)["grpc-status"]).toBe("0");
      expect(observed.pulled).toBe(2000);
      expect(lead).toBeLessThan(bound);
    } finally {
      session.destroy();
    }
  });
});
