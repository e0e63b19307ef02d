/**
 * P1: unary GetVCluster over cleartext HTTP/2, 4 connections × 32 streams, gRPC and Connect
 * binary, against the reference server with a memory and a SQLite store, beside @grpc/grpc-js
 * serving the same vcluster from memory. Each contender runs in its own process, one at a time;
 * the load comes from h2load (nghttp2, obtained by scripts/ensure-h2load.mjs) or, when that
 * cannot be had, from bench/h2-load.ts in another process.
 *
 *   node bench/unary.ts [--seconds=5]
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { GetVClusterRequestSchema, VClusterSchema, VClusterService } from "@open-vcluster/api";
import { ensureH2load } from "../../../scripts/ensure-h2load.mjs";
import { benchVCluster, tempDir } from "./fixtures.ts";

/** A row of the bench's one summary table. */
export interface UnaryRow {
  id: string;
  what: string;
  contender: string;
  figure: string;
  ratio: string;
  target: string;
  met: boolean;
}

type Protocol = "grpc" | "connect";
type Contender = "memory" | "sqlite" | "grpc-js";

const here = fileURLToPath(new URL(".", import.meta.url));
const CONNECTIONS = 4;
const STREAMS = 32;
const PATH = "/vcluster.api.v1.VClusterService/GetVCluster";
const ROUNDS = 2;
const run = promisify(execFile);
const log = (text: string) => process.stderr.write(`${text}\n`);

/** The vcluster every contender serves: about 760 bytes in the protobuf binary format. */
const BENCH_INDEX = 1;
const target = benchVCluster(BENCH_INDEX);
const requestBytes = toBinary(
  GetVClusterRequestSchema,
  create(GetVClusterRequestSchema, { name: target.name, namespace: target.namespace }),
);

function body(protocol: Protocol): Buffer {
  if (protocol === "connect") return Buffer.from(requestBytes);
  const frame = Buffer.alloc(5 + requestBytes.length);
  frame.writeUInt32BE(requestBytes.length, 1);
  frame.set(requestBytes, 5);
  return frame;
}

const CONTENT_TYPE: Record<Protocol, string> = { grpc: "application/grpc", connect: "application/proto" };

interface Started {
  port: number;
  process: ChildProcess;
}

function startContender(contender: Contender): Promise<Started> {
  const args = contender === "grpc-js" ? ["grpc-js"] : ["server", contender];
  const child = spawn(process.execPath, [join(here, "unary-contender.ts"), String(BENCH_INDEX), ...args], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      const port = /^port (\d+)$/m.exec(stderr)?.[1];
      if (port) resolve({ port: Number(port), process: child });
    });
    child.once("exit", (code) => reject(new Error(`contender ${contender} exited (${code}): ${stderr}`)));
  });
}

function stopContender(started: Started): Promise<void> {
  return new Promise((resolve) => {
    started.process.once("exit", () => resolve());
    started.process.stdin?.end();
  });
}

/** One real call first: the contender must answer with the vcluster itself, not just a 200. */
async function verify(port: number, protocol: Protocol): Promise<number> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl })
      : createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
  const client = createClient(VClusterService, transport);
  const response = await client.getVCluster({ name: target.name, namespace: target.namespace });
  // The server adds what a store adds (its resource version); the vcluster is the same one.
  const got = response.vcluster;
  if (got?.id !== target.id || !equals(VClusterSchema, { ...got, annotations: {} }, { ...target, annotations: {} })) {
    throw new Error(`contender on port ${port} answered another vcluster over ${protocol}`);
  }
  return toBinary(VClusterSchema, got).length;
}

interface Load {
  callsPerSecond: number;
  failed: number;
  tool: string;
}

async function h2load(port: number, protocol: Protocol, seconds: number, dir: string): Promise<Load> {
  const tool = ensureH2load();
  const file = join(dir, `${protocol}.bin`);
  writeFileSync(file, body(protocol));
  const { stdout } = await run(
    tool.command,
    [
      `-c${CONNECTIONS}`,
      `-m${STREAMS}`,
      `-D${seconds}`,
      "--warm-up-time=1",
      "-d",
      file,
      "-H",
      `content-type: ${CONTENT_TYPE[protocol]}`,
      "-H",
      "te: trailers",
      "-H",
      "connect-protocol-version: 1",
      `http://127.0.0.1:${port}${PATH}`,
    ],
    { env: tool.env, maxBuffer: 1 << 24 },
  );
  const rate = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1];
  const counts = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
    stdout,
  );
  if (!rate || !counts) throw new Error(`unexpected h2load output:\n${stdout}`);
  return { callsPerSecond: Number(rate), failed: Number(counts[2]) + Number(counts[3]), tool: "h2load" };
}

async function nodeLoad(port: number, protocol: Protocol, seconds: number): Promise<Load> {
  const { stdout } = await run(process.execPath, [
    join(here, "h2-load.ts"),
    `http://127.0.0.1:${port}${PATH}`,
    CONTENT_TYPE[protocol],
    body(protocol).toString("hex"),
    String(CONNECTIONS),
    String(STREAMS),
    String(seconds),
    "1",
  ]);
  const result = JSON.parse(stdout) as { calls: number; seconds: number; failed: number };
  return { callsPerSecond: result.calls / result.seconds, failed: result.failed, tool: "bench/h2-load.ts" };
}

let loadTool: "h2load" | "node" | undefined;

async function load(port: number, protocol: Protocol, seconds: number, dir: string): Promise<Load> {
  if (loadTool === undefined) {
    try {
      ensureH2load();
      loadTool = "h2load";
    } catch (error) {
      log(`unary: h2load unavailable (${(error as Error).message}); using bench/h2-load.ts`);
      loadTool = "node";
    }
  }
  return loadTool === "h2load" ? h2load(port, protocol, seconds, dir) : nodeLoad(port, protocol, seconds);
}

async function measure(contender: Contender, protocol: Protocol, seconds: number, dir: string): Promise<Load> {
  log(`unary: ${contender}, ${protocol}…`);
  const started = await startContender(contender);
  try {
    await verify(started.port, protocol);
    const result = await load(started.port, protocol, seconds, dir);
    if (result.failed > 0) throw new Error(`${result.failed} calls failed against ${contender} over ${protocol}`);
    return result;
  } finally {
    await stopContender(started);
  }
}

const LABEL: Record<Protocol, string> = { grpc: "gRPC", connect: "Connect binary" };

/** Measures every P1 row: both protocols, both stores, each beside grpc-js over gRPC. */
export async function benchUnary(options: { seconds?: number } = {}): Promise<UnaryRow[]> {
  const seconds = options.seconds ?? 5;
  const dir = tempDir();
  try {
    // grpc-js speaks gRPC only; both protocols of the server are held against its gRPC figure.
    // Everything runs twice, interleaved, and grpc-js once more at the end: one run of one
    // contender moves by a sixth or more on a shared machine, and drift shows up in the runs.
    const baseline: number[] = [];
    const rows: { store: Contender; protocol: Protocol; runs: number[]; tool: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push((await measure("grpc-js", "grpc", seconds, dir.path)).callsPerSecond);
      for (const store of ["memory", "sqlite"] as const) {
        for (const protocol of ["grpc", "connect"] as const) {
          const result = await measure(store, protocol, seconds, dir.path);
          let row = rows.find((r) => r.store === store && r.protocol === protocol);
          if (row === undefined) {
            row = { store, protocol, runs: [], tool: result.tool };
            rows.push(row);
          }
          row.runs.push(result.callsPerSecond);
        }
      }
    }
    baseline.push((await measure("grpc-js", "grpc", seconds, dir.path)).callsPerSecond);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const grpcJs = mean(baseline);
    const calls = (n: number) => `${Math.round(n).toLocaleString("en-US")} calls/s`;
    const runs = (values: number[]) => values.map((b) => Math.round(b)).join(" / ");
    return rows.map((row) => {
      const callsPerSecond = mean(row.runs);
      const ratio = callsPerSecond / grpcJs;
      return {
        id: "P1",
        what: `GetVCluster over h2c, ${LABEL[row.protocol]}, ${row.store} store, ${CONNECTIONS}×${STREAMS} (${row.tool})`,
        contender: `@grpc/grpc-js from memory, ${calls(grpcJs)} (${runs(baseline)})`,
        figure: `${calls(callsPerSecond)} (${runs(row.runs)})`,
        ratio: `${ratio.toFixed(2)}×`,
        target: "≥ 1.0×",
        met: ratio >= 1,
      };
    });
  } finally {
    dir.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.argv.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 5);
  const rows = await benchUnary({ seconds });
  for (const row of rows)
    console.log(
      `${row.id}  ${row.what}  ${row.figure}  vs ${row.contender}  ${row.ratio}  ${row.target}  ${row.met ? "met" : "NOT met"}`,
    );
}
