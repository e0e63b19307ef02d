import { create, fromBinary } from "@bufbuild/protobuf";
import {
  Annotations,
  CreateVClusterRequestSchema,
  CreateVClusterResponseSchema,
  ListVClustersRequestSchema,
  ListVClustersResponseSchema,
  VClusterSchema,
  WatchEventType,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { connectStream, connectUnary, fakeFetch, grpcWebUnary } from "../test/fake-fetch.js";
import { createWebClient } from "./web-client.js";

const baseUrl = "https://api.example.test";
const listResponse = () =>
  create(ListVClustersResponseSchema, { vclusters: [create(VClusterSchema, { name: "dev", namespace: "team-a" })] });

describe("createWebClient over the Connect protocol", () => {
  it("sends read-only RPCs as GET requests carrying the encoded message in the query", async () => {
    const { fetch, requests } = fakeFetch(() => connectUnary(ListVClustersResponseSchema, listResponse()));
    const client = createWebClient({ baseUrl, fetch, retry: false });

    const response = await client.vclusters.listVClusters({ namespace: "team-a", pageSize: 5 });

    expect(response.vclusters.map((v) => v.name)).toEqual(["dev"]);
    const [request] = requests;
    expect(request?.method).toBe("GET");
    expect(request?.url.pathname).toBe("/vcluster.api.v1.VClusterService/ListVClusters");
    expect(request?.url.searchParams.get("encoding")).toBe("proto");
    const message = Uint8Array.from(atob(request?.url.searchParams.get("message") ?? ""), (c) => c.charCodeAt(0));
    expect(fromBinary(ListVClustersRequestSchema, message)).toMatchObject({ namespace: "team-a", pageSize: 5 });
  });

  it("sends mutations as binary POST requests", async () => {
    const { fetch, requests } = fakeFetch(() =>
      connectUnary(CreateVClusterResponseSchema, create(CreateVClusterResponseSchema, { operationId: "op-1" })),
    );
    const client = createWebClient({ baseUrl, fetch, retry: false });

    const response = await client.vclusters.createVCluster({ name: "dev" });

    expect(response.operationId).toBe("op-1");
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.headers.get("content-type")).toBe("application/proto");
    expect(fromBinary(CreateVClusterRequestSchema, request?.body ?? new Uint8Array()).name).toBe("dev");
  });

  it("uses POST for every RPC when GET is turned off, and JSON when asked", async () => {
    const { fetch, requests } = fakeFetch(
      () => new Response("{}", { status: 200, headers: { "content-type": "application/json" } }),
    );
    const client = createWebClient({ baseUrl, fetch, retry: false, useHttpGet: false, useBinaryFormat: false });

    await client.vclusters.listVClusters({});

    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.headers.get("content-type")).toBe("application/json");
  });

  it("streams watch events over fetch", async () => {
    const vcluster = create(VClusterSchema, { name: "dev", annotations: { [Annotations.resourceVersion]: "7" } });
    const { fetch, requests } = fakeFetch(() =>
      connectStream(WatchVClusterResponseSchema, [
        create(WatchVClusterResponseSchema, { type: WatchEventType.ADDED, vcluster }),
      ]),
    );
    const client = createWebClient({ baseUrl, fetch, retry: false });
    const watch = client.watch({ namespace: "team-a" });

    const iterator = watch[Symbol.asyncIterator]();
    const first = await iterator.next();
    watch.close();

    expect(first.value).toMatchObject({ type: WatchEventType.ADDED, resourceVersion: "7" });
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.headers.get("content-type")).toBe("application/connect+proto");
  });
});

describe("createWebClient over gRPC-Web", () => {
  it("posts gRPC-Web frames, also for read-only RPCs", async () => {
    const { fetch, requests } = fakeFetch(() => grpcWebUnary(ListVClustersResponseSchema, listResponse()));
    const client = createWebClient({ baseUrl, fetch, protocol: "grpc-web", retry: false });

    const response = await client.vclusters.listVClusters({});

    expect(response.vclusters).toHaveLength(1);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.headers.get("content-type")).toBe("application/grpc-web+proto");
  });

  it("refuses plain gRPC, which browsers cannot speak", () => {
    expect(() => createWebClient({ baseUrl, protocol: "grpc" })).toThrow(/grpc-web/);
  });
});

describe("bearer tokens", () => {
  it("asks the token provider on every call", async () => {
    const { fetch, requests } = fakeFetch(() => connectUnary(ListVClustersResponseSchema, listResponse()));
    const tokens = ["first", "second"];
    const client = createWebClient({ baseUrl, fetch, retry: false, token: () => tokens.shift() ?? "" });

    await client.vclusters.listVClusters({});
    await client.vclusters.listVClusters({});

    expect(requests.map((r) => r.headers.get("authorization"))).toEqual(["Bearer first", "Bearer second"]);
  });

  it("sends no Authorization header without a token", async () => {
    const { fetch, requests } = fakeFetch(() => connectUnary(ListVClustersResponseSchema, listResponse()));
    await createWebClient({ baseUrl, fetch, retry: false }).vclusters.listVClusters({});
    expect(requests[0]?.headers.has("authorization")).toBe(false);
  });
});

describe("default fetch", () => {
  it("uses the global fetch installed at call time", async () => {
    const { fetch, requests } = fakeFetch(() => connectUnary(ListVClustersResponseSchema, listResponse()));
    const client = createWebClient({ baseUrl, retry: false });
    const original = globalThis.fetch;
    globalThis.fetch = fetch;
    try {
      await client.vclusters.listVClusters({});
    } finally {
      globalThis.fetch = original;
    }
    expect(requests).toHaveLength(1);
  });
});
