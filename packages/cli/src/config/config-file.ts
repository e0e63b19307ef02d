import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import type { ExecCredential } from "../auth/credential-command.js";
import type { OidcLogin } from "../auth/device-login.js";
import { UsageError } from "../errors.js";

/** A named connection, as kubectl's contexts are: where to call, as whom, in which namespace. */
export interface ContextEntry {
  name: string;
  server?: string;
  token?: string;
  namespace?: string;
  /** A command that prints the token (kubectl's exec-plugin style). */
  exec?: ExecCredential;
  /** An OpenID Connect sign-in made with `vcluster-api login`. */
  oidc?: OidcLogin;
}

export interface CliConfig {
  currentContext?: string;
  contexts: ContextEntry[];
}

/** --config, then VCLUSTER_API_CONFIG, then the XDG location under the home directory. */
export function configPath(flag: string | undefined, env: Record<string, string | undefined>, homeDir: string): string {
  if (flag) return flag;
  if (env.VCLUSTER_API_CONFIG) return env.VCLUSTER_API_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homeDir, ".config");
  return join(base, "vcluster-api", "config.yaml");
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new UsageError(`${where}: expected a string`);
  return value;
}

function toContext(value: unknown, index: number, file: string): ContextEntry {
  const where = `${file}: contexts[${index}]`;
  if (typeof value !== "object" || value === null) throw new UsageError(`${where}: expected a mapping`);
  const raw = value as Record<string, unknown>;
  const name = optionalString(raw.name, `${where}.name`);
  if (!name) throw new UsageError(`${where}.name: required`);
  const entry: ContextEntry = { name };
  for (const key of ["server", "token", "namespace"] as const) {
    const field = optionalString(raw[key], `${where}.${key}`);
    if (field !== undefined) entry[key] = field;
  }
  if (raw.exec !== undefined && raw.exec !== null) entry.exec = toExec(raw.exec, `${where}.exec`);
  if (raw.oidc !== undefined && raw.oidc !== null) entry.oidc = toOidc(raw.oidc, `${where}.oidc`);
  return entry;
}

function mapping(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new UsageError(`${where}: expected a mapping`);
  return value as Record<string, unknown>;
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
    throw new UsageError(`${where}: expected a list of strings`);
  return value as string[];
}

function toExec(value: unknown, where: string): ExecCredential {
  const raw = mapping(value, where);
  const command = optionalString(raw.command, `${where}.command`);
  if (!command) throw new UsageError(`${where}.command: required`);
  const exec: ExecCredential = { command };
  const args = stringList(raw.args, `${where}.args`);
  if (args) exec.args = args;
  if (raw.env !== undefined && raw.env !== null) {
    const env = mapping(raw.env, `${where}.env`);
    for (const [k, v] of Object.entries(env))
      if (typeof v !== "string") throw new UsageError(`${where}.env.${k}: expected a string`);
    exec.env = env as Record<string, string>;
  }
  return exec;
}

function toOidc(value: unknown, where: string): OidcLogin {
  const raw = mapping(value, where);
  const issuer = optionalString(raw.issuer, `${where}.issuer`);
  const clientId = optionalString(raw.clientId, `${where}.clientId`);
  if (!issuer) throw new UsageError(`${where}.issuer: required`);
  if (!clientId) throw new UsageError(`${where}.clientId: required`);
  const login: OidcLogin = { issuer, clientId };
  const scopes = stringList(raw.scopes, `${where}.scopes`);
  if (scopes) login.scopes = scopes;
  const refreshToken = optionalString(raw.refreshToken, `${where}.refreshToken`);
  if (refreshToken) login.refreshToken = refreshToken;
  return login;
}

/** A missing file is an empty configuration: the CLI works without one. */
export async function loadConfig(file: string): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { contexts: [] };
    throw new UsageError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new UsageError(`config file ${file}: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return { contexts: [] };
  if (typeof document !== "object") throw new UsageError(`config file ${file}: expected a mapping`);
  const raw = document as Record<string, unknown>;
  const contexts = raw.contexts ?? [];
  if (!Array.isArray(contexts)) throw new UsageError(`config file ${file}: contexts must be a list`);
  const config: CliConfig = { contexts: contexts.map((c, i) => toContext(c, i, file)) };
  const current = optionalString(raw["current-context"], `${file}: current-context`);
  if (current) config.currentContext = current;
  return config;
}

/** Written owner-only: contexts may hold bearer tokens. */
export async function saveConfig(file: string, config: CliConfig): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const document: Record<string, unknown> = {};
  if (config.currentContext) document["current-context"] = config.currentContext;
  document.contexts = config.contexts;
  await writeFile(file, stringify(document), { mode: 0o600 });
  await chmod(file, 0o600);
}
