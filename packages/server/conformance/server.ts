// The server under test of the Connect conformance suite: the reference client talks to the
// ConformanceService served through the reference server's own transport: its RPC handler (the
// unary fast path beside connect-node) behind the one-port HTTP/1.1 + h2c / TLS listener. Protocol: a size-delimited ServerCompatRequest
// on stdin, a size-delimited ServerCompatResponse on stdout once listening.
import { createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { loggingInterceptor, watchRequestErrors } from "../dist/http/interceptors.js";
import { createOnePortServer } from "../dist/http/one-port.js";
import { createRpcHandler } from "../dist/http/rpc-handler.js";
import { resolveLogger } from "../dist/logger.js";
import {
  ServerCompatRequestSchema,
  ServerCompatResponseSchema,
} from "./gen/connectrpc/conformance/v1/server_compat_pb.js";
import {
  ConformanceService,
  file_connectrpc_conformance_v1_service,
} from "./gen/connectrpc/conformance/v1/service_pb.js";
import { conformanceService } from "./service.ts";

async function readRequest(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    if (all.length >= 4 && all.length >= 4 + all.readUInt32BE(0)) return all.subarray(4, 4 + all.readUInt32BE(0));
  }
  throw new Error("stdin ended before a whole ServerCompatRequest arrived");
}

const request = fromBinary(ServerCompatRequestSchema, await readRequest());
// The reference server's own handler options (see createApiServer): the request gate that
// refines errors raised while decoding a request, the logging interceptor, strict JSON.
const jsonOptions = {
  ignoreUnknownFields: false,
  // connect reads this option, though its type does not declare it.
  textDecoder: new TextDecoder("utf-8", { fatal: true }),
  // The echoed requests travel in google.protobuf.Any; JSON needs to know their types.
  registry: createRegistry(file_connectrpc_conformance_v1_service),
};
const logger = resolveLogger(process.env.CONFORMANCE_LOG ? undefined : false);
const handler = createRpcHandler({
  routes: (router) =>
    router.service(ConformanceService, conformanceService, {
      requestGate: (ctx) => watchRequestErrors(ctx, logger),
      interceptors: [loggingInterceptor(logger)],
    }),
  jsonOptions,
  ...(request.messageReceiveLimit > 0 ? { readMaxBytes: request.messageReceiveLimit } : {}),
});
const decoder = new TextDecoder();
const tls =
  request.useTls && request.serverCreds
    ? { cert: decoder.decode(request.serverCreds.cert), key: decoder.decode(request.serverCreds.key) }
    : undefined;
// As the reference server does: its fast path sees each HTTP/2 stream first.
const server = createOnePortServer(handler, tls, (stream, headers) => handler.serveStream(stream, headers));
const port = await server.listen(0, "127.0.0.1");
const response = toBinary(ServerCompatResponseSchema, {
  $typeName: "connectrpc.conformance.v1.ServerCompatResponse",
  host: "127.0.0.1",
  port,
  pemCert: request.useTls ? (request.serverCreds?.cert ?? new Uint8Array()) : new Uint8Array(),
});
const size = Buffer.alloc(4);
size.writeUInt32BE(response.length);
process.stdout.write(Buffer.concat([size, Buffer.from(response)]));
// The runner ends the server with SIGTERM once its tests are done.
process.on("SIGTERM", () => {
  server.destroyAll();
  process.exit(0);
});
