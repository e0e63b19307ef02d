import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { VClusterService } from "@open-vcluster/api";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testServer } from "./support.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  await provider.shutdown();
  context.disable();
  propagation.disable();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

describe("tracing", () => {
  it("spans RPCs, continuing the caller's trace, with store transactions and provider work inside", async () => {
    exporter.reset();
    const server = await testServer({ tracing: provider });
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      interceptors: [
        (next) => (req) => {
          req.header.set("traceparent", `00-${TRACE_ID}-${CALLER_SPAN}-01`);
          return next(req);
        },
      ],
    });
    const client = createClient(VClusterService, transport);
    await client.createVCluster({ name: "traced", waitForReady: true });
    await expect(client.getVCluster({ name: "absent" })).rejects.toThrow(/not found/);
    await server.api.idle();

    const spans = exporter.getFinishedSpans();
    const create = spans.find((s) => s.name === "vcluster.api.v1.VClusterService/CreateVCluster");
    expect(create?.spanContext().traceId).toBe(TRACE_ID);
    expect(create?.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(create?.attributes).toMatchObject({
      "rpc.system": "connect_rpc",
      "rpc.service": "vcluster.api.v1.VClusterService",
      "rpc.method": "CreateVCluster",
      "rpc.response.status_code": "OK",
    });
    expect(create?.attributes["vcluster_api.request_id"]).toMatch(/^[0-9a-f-]{36}$/);

    const inCreate = spans.filter((s) => s.parentSpanContext?.spanId === create?.spanContext().spanId);
    expect(inCreate.some((s) => s.name === "store.transaction")).toBe(true);
    const work = spans.find((s) => s.name === "provider.create");
    expect(work?.spanContext().traceId).toBe(TRACE_ID);
    expect(work?.attributes).toMatchObject({
      "vcluster_api.vcluster.name": "traced",
      "vcluster_api.operation": "create",
    });

    const get = spans.find((s) => s.name === "vcluster.api.v1.VClusterService/GetVCluster");
    expect(get?.status.code).toBe(2); // ERROR
    expect(get?.attributes["rpc.response.status_code"]).toBe("NOT_FOUND");
  });

  it("records nothing unless turned on, even with a global tracer provider", async () => {
    exporter.reset();
    trace.setGlobalTracerProvider(provider);
    const server = await testServer();
    await createClient(
      VClusterService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ).listVClusters({});
    expect(exporter.getFinishedSpans()).toEqual([]);
    trace.disable();
  });

  it("uses the global tracer provider when told to", async () => {
    exporter.reset();
    trace.setGlobalTracerProvider(provider);
    const server = await testServer({ tracing: true });
    await createClient(
      VClusterService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ).listVClusters({});
    expect(exporter.getFinishedSpans().map((s) => s.name)).toContain("vcluster.api.v1.VClusterService/ListVClusters");
    trace.disable();
  });
});
