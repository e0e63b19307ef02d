import { createClient } from "@open-vcluster/client";
import type { VClusterApiClient } from "@open-vcluster/core";
import type { Command } from "commander";
import { type Connection, type ConnectionFlags, resolveConnection } from "./config/connection.js";
import type { CliIo } from "./io.js";

/** Facts about a run that outlive a failed command (the server URL, for the error hint). */
export interface RunState {
  serverUrl?: string;
}

/**
 * What a command needs beyond its own flags: the resolved connection (flags, environment,
 * config context) and a client built from it, both created only when first asked for, so
 * commands that never call the server never read the config or open a connection.
 */
export class Session {
  private connectionPromise: Promise<Connection> | undefined;
  private clientPromise: Promise<VClusterApiClient> | undefined;

  constructor(
    readonly io: CliIo,
    private readonly flags: ConnectionFlags,
    private readonly state: RunState,
  ) {}

  connection(): Promise<Connection> {
    this.connectionPromise ??= resolveConnection(this.flags, this.io.env, this.io.homeDir).then((connection) => {
      this.state.serverUrl = connection.server;
      return connection;
    });
    return this.connectionPromise;
  }

  client(): Promise<VClusterApiClient> {
    this.clientPromise ??= this.connection().then((connection) =>
      createClient({ baseUrl: connection.server, ...(connection.token ? { token: connection.token } : {}) }),
    );
    return this.clientPromise;
  }

  /** Namespace of a single object: -n, then the context's, then "default". */
  async namespace(flag: string | undefined): Promise<string> {
    return flag || (await this.connection()).namespace || "default";
  }

  /**
   * Namespace filter of a list or watch, by kubectl's rule: -A means every namespace ("");
   * otherwise -n, then the context's namespace, then "default".
   */
  async listNamespace(flag: string | undefined, allNamespaces: boolean | undefined): Promise<string> {
    if (allNamespaces) return "";
    return this.namespace(flag);
  }
}

/** Builds the session of the command being run, with the connection flags of its ancestors. */
export type SessionFactory = (command: Command) => Session;

export function sessionFactory(io: CliIo, state: RunState): SessionFactory {
  return (command) => {
    const { server, token, context, config } = command.optsWithGlobals<ConnectionFlags>();
    return new Session(io, { server, token, context, config }, state);
  };
}
