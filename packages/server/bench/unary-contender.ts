// One contender of the unary bench, in its own process so that contenders never share a heap or
// an event loop: the reference server with a memory or SQLite store, or @grpc/grpc-js serving
// the same vcluster from memory. Prints `port <n>` once listening and runs until stdin closes.
//
//   node bench/unary-contender.ts <index> server memory|sqlite
//   node bench/unary-contender.ts <index> grpc-js
//
// <index> picks the vcluster (bench/fixtures.ts benchVCluster) every contender serves.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { GetVClusterRequestSchema, type GetVClusterResponse, GetVClusterResponseSchema } from "@open-vcluster/api";
import { startServer } from "@open-vcluster/server";
import { benchVCluster, tempDir } from "./fixtures.ts";

async function serveReference(store: "memory" | "sqlite"): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = tempDir();
  // The server's own logger, as deployed: one request line per call (the parent discards stdout).
  const server = await startServer({
    port: 0,
    timeScale: 0,
    store: store === "memory" ? "memory" : `sqlite:${dir.path}/bench.db`,
  });
  await server.store.transaction(async (tx) => {
    await tx.putVCluster(benchVCluster(BENCH_INDEX));
  });
  return {
    port: server.port,
    async stop() {
      await server.close();
      dir.remove();
    },
  };
}

async function serveGrpcJs(): Promise<{ port: number; stop(): Promise<void> }> {
  const response: GetVClusterResponse = create(GetVClusterResponseSchema, { vcluster: benchVCluster(BENCH_INDEX) });
  const server = new grpc.Server();
  server.addService(
    {
      GetVCluster: {
        path: "/vcluster.api.v1.VClusterService/GetVCluster",
        requestStream: false,
        responseStream: false,
        requestSerialize: (value: unknown) => Buffer.from(toBinary(GetVClusterRequestSchema, value as never)),
        requestDeserialize: (bytes: Buffer) => fromBinary(GetVClusterRequestSchema, bytes),
        responseSerialize: (value: GetVClusterResponse) => Buffer.from(toBinary(GetVClusterResponseSchema, value)),
        responseDeserialize: (bytes: Buffer) => fromBinary(GetVClusterResponseSchema, bytes),
      },
    },
    {
      GetVCluster: (_call: unknown, callback: grpc.sendUnaryData<GetVClusterResponse>) => callback(null, response),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { port, stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

const [index = "1", kind, store] = process.argv.slice(2);
const BENCH_INDEX = Number(index);
const contender =
  kind === "grpc-js" ? await serveGrpcJs() : await serveReference(store === "sqlite" ? "sqlite" : "memory");
process.stderr.write(`port ${contender.port}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  const cpu = process.cpuUsage();
  process.stderr.write(`cpu ${cpu.user + cpu.system}\n`);
  void contender.stop().then(() => process.exit(0));
});
