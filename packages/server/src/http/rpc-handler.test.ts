// The unary fast path's own encoding of responses that only carry already-encoded objects:
// the same bytes as connect-node, within the same write limit and options.
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectRouterOptions, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { GetVClusterResponseSchema, VClusterSchema, VClusterService } from "@open-vcluster/api";
import { afterEach, describe, expect, it } from "vitest";
import { withEncodedField } from "../service/encoded-once.js";
import { freezeDeep } from "../store/frozen.js";
import { createOnePortServer, type OnePortServer } from "./one-port.js";
import { createRpcHandler } from "./rpc-handler.js";

const stored = freezeDeep(
  create(VClusterSchema, { id: "vc-1", name: "one", namespace: "team", annotations: { note: "x".repeat(500) } }),
);
const servers: OnePortServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.destroyAll();
    await server.stopAccepting();
  }
});

async function serve(options: Partial<ConnectRouterOptions> = {}) {
  const handler = createRpcHandler({
    ...options,
    routes: (router) =>
      router.service(VClusterService, {
        getVCluster: () => withEncodedField(create(GetVClusterResponseSchema), 1, [stored]),
      }),
  });
  const server = createOnePortServer(handler);
  servers.push(server);
  const baseUrl = `http://127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
  return (protocol: "grpc" | "connect", timeoutMs?: number) => {
    const transport =
      protocol === "grpc"
        ? createGrpcTransport({ baseUrl })
        : createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
    // A deadline sends the call through connect-node instead of the fast path.
    const client = createClient(VClusterService, transport);
    return client.getVCluster({ name: "one" }, timeoutMs === undefined ? {} : { timeoutMs });
  };
}

describe("unary fast path responses made of encoded objects", () => {
  it("answers with the object, as connect-node does", async () => {
    const get = await serve();
    for (const protocol of ["grpc", "connect"] as const) {
      const fast = await get(protocol);
      const slow = await get(protocol, 60_000);
      expect(equals(VClusterSchema, fast.vcluster ?? create(VClusterSchema), stored)).toBe(true);
      expect(toBinary(GetVClusterResponseSchema, fast)).toEqual(toBinary(GetVClusterResponseSchema, slow));
    }
  });

  it("keeps to writeMaxBytes on both roads", async () => {
    const get = await serve({ writeMaxBytes: 100 });
    for (const protocol of ["grpc", "connect"] as const) {
      for (const timeoutMs of [undefined, 60_000]) {
        await expect(get(protocol, timeoutMs)).rejects.toMatchObject({
          code: Code.ResourceExhausted,
          rawMessage: expect.stringMatching(/^message size \d+ is larger than configured writeMaxBytes 100$/),
        });
      }
    }
  });

  it("leaves the object out when unknown fields are not written, as connect-node does", async () => {
    const get = await serve({ binaryOptions: { writeUnknownFields: false } });
    for (const protocol of ["grpc", "connect"] as const) {
      expect((await get(protocol)).vcluster).toBeUndefined();
      expect((await get(protocol, 60_000)).vcluster).toBeUndefined();
    }
  });
});
