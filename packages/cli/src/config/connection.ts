import type { TokenSource } from "@open-vcluster/core";
import { contextTokenSource } from "../auth/context-token.js";
import { UsageError } from "../errors.js";
import { type CliConfig, type ContextEntry, configPath, loadConfig } from "./config-file.js";

export const DEFAULT_SERVER = "http://127.0.0.1:8080";

/** The connection flags every command accepts. */
export interface ConnectionFlags {
  server?: string;
  token?: string;
  context?: string;
  config?: string;
}

export interface Connection {
  server: string;
  /** A token, or a function that fetches one (a credential command or an OpenID sign-in). */
  token: TokenSource | undefined;
  /** The context's namespace: the default of -n. */
  namespace: string | undefined;
  contextName: string | undefined;
  configFile: string;
}

/** Picks the context: --context, then VCLUSTER_API_CONTEXT, then current-context. */
export function selectContext(
  config: CliConfig,
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
): ContextEntry | undefined {
  const explicit = flags.context || env.VCLUSTER_API_CONTEXT;
  const name = explicit || config.currentContext;
  if (!name) return undefined;
  const entry = config.contexts.find((c) => c.name === name);
  // A stale current-context should not break every command; a context asked for by name should.
  if (!entry && explicit) throw new UsageError(`context "${name}" not found in the config file`);
  return entry;
}

/**
 * Flags win over environment variables, which win over the context, which wins over defaults.
 * A context's credentials: its token, else its credential command, else its OpenID sign-in.
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
  homeDir: string,
): Promise<Connection> {
  const configFile = configPath(flags.config, env, homeDir);
  const config = await loadConfig(configFile);
  const context = selectContext(config, flags, env);
  const server = flags.server || env.VCLUSTER_API_SERVER || context?.server || DEFAULT_SERVER;
  try {
    const url = new URL(server);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    throw new UsageError(`--server: "${server}" is not an http(s) URL`);
  }
  return {
    server: server.replace(/\/+$/, ""),
    token:
      flags.token ||
      env.VCLUSTER_API_TOKEN ||
      context?.token ||
      (context ? contextTokenSource(context, configFile, env) : undefined),
    namespace: context?.namespace || undefined,
    contextName: context?.name,
    configFile,
  };
}
