import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ServerOptions } from "./http/start-server.js";
import { LOG_LEVELS } from "./logger.js";

export const USAGE = `Usage: vcluster-api-server [options]

  --config <file>               YAML settings file, keys named as these flags (env VCLUSTER_API_SERVER_CONFIG)
  --host <host>                 listen address (env VCLUSTER_API_HOST, default 127.0.0.1)
  --port <port>                 listen port (env VCLUSTER_API_PORT, default 8080; 0 = any)
  --store <spec>                memory | sqlite:<path> (env VCLUSTER_API_STORE, default sqlite:.data/vcluster.db)
  --auth-tokens <file>          static bearer tokens, YAML or JSON (env VCLUSTER_API_AUTH_TOKENS)
  --cors-origin <origin>        allow browser calls from origin; repeatable (env VCLUSTER_API_CORS_ORIGINS, comma-separated)
  --time-scale <n>              multiply simulated durations; 0 = instant (env VCLUSTER_API_TIME_SCALE, default 1)
  --heartbeat-interval <ms>     watch heartbeat interval (env VCLUSTER_API_HEARTBEAT_INTERVAL, default 5000)
  --history-limit <n>           watch events kept for resumption (env VCLUSTER_API_HISTORY_LIMIT, default 10000)
  --secret <text>               root secret for page and kubeconfig tokens (env VCLUSTER_API_SECRET)
  --tls-cert <file> --tls-key <file>   serve HTTPS (h2 + http/1.1 via ALPN) (env VCLUSTER_API_TLS_CERT, VCLUSTER_API_TLS_KEY)
  --console <dir>               serve a built web console at / (env VCLUSTER_API_CONSOLE_DIR)
  --max-concurrent-creates <n>  creates provisioned at once, more wait PENDING (env VCLUSTER_API_MAX_CONCURRENT_CREATES, default 0 = unlimited)
  --log-level <level>           trace | debug | info | warn | error | fatal | silent (env VCLUSTER_API_LOG_LEVEL, default info)
  --allow-remote-without-auth   allow a non-loopback host without auth (env VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH=true)
  --help                        show this help

Each setting comes from the first of: its flag, its environment variable, the config file, the default.
Relative paths in the config file are relative to the file's folder.
Tracing is configured with the standard OpenTelemetry variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, ...).
`;

/** Every setting: its flag (also its key in the config file) and its environment variable. */
const SETTINGS = {
  host: "VCLUSTER_API_HOST",
  port: "VCLUSTER_API_PORT",
  store: "VCLUSTER_API_STORE",
  "auth-tokens": "VCLUSTER_API_AUTH_TOKENS",
  "cors-origin": "VCLUSTER_API_CORS_ORIGINS",
  "time-scale": "VCLUSTER_API_TIME_SCALE",
  "heartbeat-interval": "VCLUSTER_API_HEARTBEAT_INTERVAL",
  "history-limit": "VCLUSTER_API_HISTORY_LIMIT",
  secret: "VCLUSTER_API_SECRET",
  "tls-cert": "VCLUSTER_API_TLS_CERT",
  "tls-key": "VCLUSTER_API_TLS_KEY",
  console: "VCLUSTER_API_CONSOLE_DIR",
  "max-concurrent-creates": "VCLUSTER_API_MAX_CONCURRENT_CREATES",
  "log-level": "VCLUSTER_API_LOG_LEVEL",
  "allow-remote-without-auth": "VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH",
} as const;
type Setting = keyof typeof SETTINGS;

/** Settings naming files or folders: in a config file, relative to the file. */
const PATH_SETTINGS: ReadonlySet<Setting> = new Set(["auth-tokens", "tls-cert", "tls-key", "console"]);

type FileValue = string | string[] | boolean;

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a non-negative number, got "${text}"`);
  return value;
}

/** Reads and checks a config file: a YAML mapping whose keys are the flags' names. */
export function readConfigFile(file: string): Partial<Record<Setting, FileValue>> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`config file ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new Error(`config file ${file}: not valid YAML: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== "object" || Array.isArray(document))
    throw new Error(`config file ${file}: expected a mapping of settings`);
  const settings: Partial<Record<Setting, FileValue>> = {};
  const base = dirname(resolve(file));
  for (const [key, value] of Object.entries(document)) {
    if (!(key in SETTINGS)) {
      throw new Error(`config file ${file}: unknown setting "${key}" (known: ${Object.keys(SETTINGS).join(", ")})`);
    }
    const setting = key as Setting;
    if (setting === "allow-remote-without-auth") {
      if (typeof value !== "boolean") throw new Error(`config file ${file}: ${key}: expected true or false`);
      settings[setting] = value;
    } else if (setting === "cors-origin" && Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string")) throw new Error(`config file ${file}: ${key}: expected strings`);
      settings[setting] = value;
    } else if (typeof value === "string" || typeof value === "number") {
      const text = String(value);
      settings[setting] = PATH_SETTINGS.has(setting) && !isAbsolute(text) ? resolve(base, text) : text;
    } else {
      throw new Error(`config file ${file}: ${key}: expected a string or a number`);
    }
  }
  // A relative SQLite path, like the other paths, is relative to the file.
  const store = settings.store;
  if (typeof store === "string" && store.startsWith("sqlite:") && !isAbsolute(store.slice(7))) {
    settings.store = `sqlite:${resolve(base, store.slice(7))}`;
  }
  return settings;
}

/** Flags win over environment variables, which win over the config file, which wins over defaults. */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      store: { type: "string" },
      "auth-tokens": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "time-scale": { type: "string" },
      "heartbeat-interval": { type: "string" },
      "history-limit": { type: "string" },
      secret: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      console: { type: "string" },
      "max-concurrent-creates": { type: "string" },
      "log-level": { type: "string" },
      "allow-remote-without-auth": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const configFile = values.config ?? env.VCLUSTER_API_SERVER_CONFIG;
  const file = configFile ? readConfigFile(configFile) : {};
  const text = (setting: Exclude<Setting, "cors-origin" | "allow-remote-without-auth">): string | undefined => {
    const fromFile = file[setting];
    return values[setting] ?? (env[SETTINGS[setting]] || undefined) ?? (fromFile as string | undefined);
  };

  const store = text("store") ?? "sqlite:.data/vcluster.db";
  if (store !== "memory" && !store.startsWith("sqlite:"))
    throw new Error(`--store: expected memory or sqlite:<path>, got "${store}"`);
  const fileCors = file["cors-origin"];
  const cors =
    values["cors-origin"] ??
    (env.VCLUSTER_API_CORS_ORIGINS
      ? env.VCLUSTER_API_CORS_ORIGINS.split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined) ??
    (typeof fileCors === "string" ? [fileCors] : (fileCors as string[] | undefined)) ??
    [];
  const allowRemoteEnv = env.VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH;
  if (allowRemoteEnv !== undefined && allowRemoteEnv !== "" && !/^(true|false)$/.test(allowRemoteEnv))
    throw new Error(`VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH: expected true or false, got "${allowRemoteEnv}"`);
  const allowRemote =
    values["allow-remote-without-auth"] ??
    (allowRemoteEnv ? allowRemoteEnv === "true" : undefined) ??
    (file["allow-remote-without-auth"] as boolean | undefined) ??
    false;
  const logLevel = text("log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new Error(`--log-level: expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  const certFile = text("tls-cert");
  const keyFile = text("tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error("--tls-cert and --tls-key go together");

  const options: ServerOptions = {
    host: text("host") ?? "127.0.0.1",
    port: number("--port", text("port")) ?? 8080,
    store: store as ServerOptions["store"] & string,
    timeScale: number("--time-scale", text("time-scale")) ?? 1,
    corsOrigins: cors,
    allowRemoteWithoutAuth: allowRemote,
    logLevel: logLevel as NonNullable<ServerOptions["logLevel"]>,
  };
  const heartbeat = number("--heartbeat-interval", text("heartbeat-interval"));
  if (heartbeat) options.heartbeatIntervalMs = heartbeat;
  const history = number("--history-limit", text("history-limit"));
  if (history) options.historyLimit = history;
  const authTokensFile = text("auth-tokens");
  if (authTokensFile) options.authTokensFile = authTokensFile;
  const secret = text("secret");
  if (secret) options.secret = secret;
  const maxCreates = number("--max-concurrent-creates", text("max-concurrent-creates"));
  if (maxCreates) options.maxConcurrentCreates = maxCreates;
  const consoleDir = text("console");
  if (consoleDir) options.consoleDir = consoleDir;
  if (certFile && keyFile) options.tls = { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  return options;
}
