import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type RunningServer, type ServerOptions, startServer } from "@open-vcluster/server";

/** The server options these tests use, including the one that serves the built console. */
export type ConsoleServerOptions = ServerOptions & { consoleDir?: string };

/** The console's production build, as `pnpm --filter @open-vcluster/console build` writes it. */
export function consoleDistDir(): string {
  const manifest = createRequire(import.meta.url).resolve("@open-vcluster/console/package.json");
  return join(dirname(manifest), "dist");
}

export interface ConsoleServer {
  url: string;
  port: number;
  server: RunningServer;
  /** Stops the server and starts a new one on the same port and database, as after a deploy. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The reference server with a durable SQLite store and the console, with simulated operations
 * slowed to a fifth of their default length: long enough to see CREATING, short enough to wait.
 */
export async function startConsoleServer(
  extra: Partial<ConsoleServerOptions> = {},
  { withConsole = true } = {},
): Promise<ConsoleServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "e2e-server-"));
  const options: ConsoleServerOptions = {
    port: 0,
    store: `sqlite:${join(dataDir, "vcluster.db")}`,
    timeScale: 0.2,
    heartbeatIntervalMs: 1000,
    logger: false,
    ...(withConsole ? { consoleDir: consoleDistDir() } : {}),
    ...extra,
  };
  let server: RunningServer | undefined = await startServer(options);
  if (withConsole) {
    try {
      await expectConsoleServed(server.url);
    } catch (error) {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
  const port = server.port;
  const handle: ConsoleServer = {
    url: server.url,
    port,
    get server() {
      if (!server) throw new Error("the server is stopped");
      return server;
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
    async restart() {
      await handle.stop();
      server = await startServer({ ...options, port });
    },
    async close() {
      await handle.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

async function expectConsoleServed(url: string): Promise<void> {
  const response = await fetch(`${url}/`);
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !type.startsWith("text/html")) {
    throw new Error(
      `GET ${url}/ answered ${response.status} ${type}: the server does not serve the console. ` +
        "Build it first (pnpm turbo run build --filter=@open-vcluster/e2e...) and make sure startServer honours consoleDir.",
    );
  }
}
