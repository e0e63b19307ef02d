import { type Client, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { type ErrorDetail, ErrorDetailSchema, Phase, SnapshotService, VClusterService } from "@open-vcluster/api";
import { afterEach } from "vitest";
import { type RunningServer, type ServerOptions, startServer } from "../src/index.js";

export type Protocol = "connect" | "grpc" | "grpc-web";

export function transportFor(
  server: RunningServer,
  protocol: Protocol,
  httpVersion: "1.1" | "2" = "2",
  token?: string,
): Transport {
  const interceptors = token
    ? [
        (next: Parameters<import("@connectrpc/connect").Interceptor>[0]) => async (req: Parameters<typeof next>[0]) => {
          req.header.set("authorization", `Bearer ${token}`);
          return next(req);
        },
      ]
    : [];
  const base = { baseUrl: server.url, interceptors };
  if (protocol === "grpc") return createGrpcTransport({ ...base });
  if (protocol === "grpc-web") return createGrpcWebTransport({ ...base, httpVersion });
  return createConnectTransport({ ...base, httpVersion });
}

export interface Clients {
  vc: Client<typeof VClusterService>;
  snap: Client<typeof SnapshotService>;
}

export function clientsFor(transport: Transport): Clients {
  return { vc: createClient(VClusterService, transport), snap: createClient(SnapshotService, transport) };
}

const running: RunningServer[] = [];

/** Starts a server on 127.0.0.1:0 (instant lifecycle, quiet logs) that is closed after the test. */
export async function testServer(options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, timeScale: 0, logger: false, faultInjection: true, ...options });
  running.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** Runs `fn` and returns the ConnectError it throws, with its ErrorDetail. */
export async function expectError(
  fn: () => Promise<unknown>,
): Promise<{ error: ConnectError; detail: ErrorDetail | undefined }> {
  try {
    await fn();
  } catch (e) {
    const error = ConnectError.from(e);
    return { error, detail: error.findDetails(ErrorDetailSchema)[0] };
  }
  throw new Error("expected the call to fail");
}

/** Creates a vcluster and waits (via the server's operation runner) until it settled. */
export async function createRunning(
  server: RunningServer,
  c: Clients,
  name: string,
  extra: Record<string, unknown> = {},
) {
  await c.vc.createVCluster({ name, ...extra });
  await server.api.idle();
  const got = await c.vc.getVCluster({ name, namespace: (extra.namespace as string) ?? "" });
  if (got.vcluster?.status?.phase !== Phase.RUNNING) throw new Error(`vcluster ${name} did not become RUNNING`);
  return got.vcluster;
}
