import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Code, createClient } from "@connectrpc/connect";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { Phase, VClusterService } from "@open-vcluster/api";
import express from "express";
import { fastify } from "fastify";
import { describe, expect, it } from "vitest";
import { createApiServer, createInProcessTransport } from "../src/index.js";
import { send } from "./wire.js";

describe("embedding", () => {
  it("serves through an in-process transport", async () => {
    const { transport, server } = createInProcessTransport({ timeScale: 0 });
    const client = createClient(VClusterService, transport);
    await client.createVCluster({ name: "inproc" });
    await server.idle();
    expect((await client.getVCluster({ name: "inproc" })).vcluster?.status?.phase).toBe(Phase.RUNNING);
    await server.close();
  });

  it("mounts into Fastify", async () => {
    const api = createApiServer({ timeScale: 0, logger: false });
    const app = fastify({ http2: true });
    await app.register(fastifyConnectPlugin, { routes: api.routes });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const client = createClient(
      VClusterService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "2" }),
    );
    await client.createVCluster({ name: "fast" });
    expect((await client.listVClusters({})).totalCount).toBe(1);
    await app.close();
    await api.close();
  });

  it("mounts into Express and a plain node server", async () => {
    const api = createApiServer({ timeScale: 0, logger: false });
    const app = express();
    app.use(expressConnectMiddleware({ routes: api.routes }));
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const client = createClient(
      VClusterService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }),
    );
    await client.createVCluster({ name: "expressed" });
    expect((await client.getVCluster({ name: "expressed" })).vcluster?.name).toBe("expressed");
    // The routes bring their request gate along: a malformed body is the caller's mistake here too.
    const garbage = await send(`http://127.0.0.1:${port}`, "connect-proto", {
      path: "/vcluster.api.v1.VClusterService/CreateVCluster",
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      headers: { "content-type": "application/proto" },
    });
    expect([garbage.status, garbage.code, garbage.detail?.reason]).toEqual([
      400,
      Code.InvalidArgument,
      "MALFORMED_REQUEST",
    ]);
    server.close();
    server.closeAllConnections();

    const plain = http.createServer(connectNodeAdapter({ routes: api.routes }));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const p2 = (plain.address() as AddressInfo).port;
    const c2 = createClient(
      VClusterService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${p2}`, httpVersion: "1.1" }),
    );
    expect((await c2.listVClusters({})).totalCount).toBe(1);
    plain.close();
    plain.closeAllConnections();
    await api.close();
  });
});
