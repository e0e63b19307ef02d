import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * Every setting of the server: its flag (also its key in the config file), its environment
 * variable, and its kind. Flags, variables and the file are read through this one table, so a
 * setting cannot exist in one of them and be missing from another.
 */
export const SETTINGS = {
  host: { env: "VCLUSTER_API_HOST", kind: "text" },
  port: { env: "VCLUSTER_API_PORT", kind: "text" },
  store: { env: "VCLUSTER_API_STORE", kind: "text" },
  "pg-pool-size": { env: "VCLUSTER_API_PG_POOL_SIZE", kind: "text" },
  "pg-statement-timeout": { env: "VCLUSTER_API_PG_STATEMENT_TIMEOUT", kind: "text" },
  "pg-ssl": { env: "VCLUSTER_API_PG_SSL", kind: "text" },
  "pg-ssl-ca": { env: "VCLUSTER_API_PG_SSL_CA", kind: "path" },
  "operation-lease": { env: "VCLUSTER_API_OPERATION_LEASE", kind: "text" },
  "auth-tokens": { env: "VCLUSTER_API_AUTH_TOKENS", kind: "path" },
  "auth-config": { env: "VCLUSTER_API_AUTH_CONFIG", kind: "path" },
  "oidc-issuer": { env: "VCLUSTER_API_OIDC_ISSUER", kind: "text" },
  "oidc-audience": { env: "VCLUSTER_API_OIDC_AUDIENCE", kind: "list" },
  "oidc-groups-claim": { env: "VCLUSTER_API_OIDC_GROUPS_CLAIM", kind: "text" },
  "oidc-project-prefix": { env: "VCLUSTER_API_OIDC_PROJECT_PREFIX", kind: "text" },
  "oidc-admin-group": { env: "VCLUSTER_API_OIDC_ADMIN_GROUPS", kind: "list" },
  "cors-origin": { env: "VCLUSTER_API_CORS_ORIGINS", kind: "list" },
  "time-scale": { env: "VCLUSTER_API_TIME_SCALE", kind: "text" },
  "heartbeat-interval": { env: "VCLUSTER_API_HEARTBEAT_INTERVAL", kind: "text" },
  "history-limit": { env: "VCLUSTER_API_HISTORY_LIMIT", kind: "text" },
  "usage-sample-interval": { env: "VCLUSTER_API_USAGE_SAMPLE_INTERVAL", kind: "text" },
  secret: { env: "VCLUSTER_API_SECRET", kind: "text" },
  "tls-cert": { env: "VCLUSTER_API_TLS_CERT", kind: "path" },
  "tls-key": { env: "VCLUSTER_API_TLS_KEY", kind: "path" },
  console: { env: "VCLUSTER_API_CONSOLE_DIR", kind: "path" },
  "max-concurrent-creates": { env: "VCLUSTER_API_MAX_CONCURRENT_CREATES", kind: "text" },
  "log-level": { env: "VCLUSTER_API_LOG_LEVEL", kind: "text" },
  "allow-remote-without-auth": { env: "VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH", kind: "boolean" },
  provider: { env: "VCLUSTER_API_PROVIDER", kind: "text" },
  kubeconfig: { env: "VCLUSTER_API_KUBECONFIG", kind: "path" },
  context: { env: "VCLUSTER_API_KUBE_CONTEXT", kind: "text" },
  "chart-repo": { env: "VCLUSTER_API_CHART_REPO", kind: "text" },
  "chart-name": { env: "VCLUSTER_API_CHART_NAME", kind: "text" },
  "chart-version": { env: "VCLUSTER_API_CHART_VERSION", kind: "text" },
  helm: { env: "VCLUSTER_API_HELM", kind: "text" },
  "snapshot-url": { env: "VCLUSTER_API_SNAPSHOT_URL", kind: "text" },
  "ready-timeout": { env: "VCLUSTER_API_READY_TIMEOUT", kind: "text" },
} as const satisfies Record<string, { env: string; kind: "text" | "path" | "list" | "boolean" }>;

export type Setting = keyof typeof SETTINGS;
type KindOf<S extends Setting> = (typeof SETTINGS)[S]["kind"];
export type TextSetting = { [S in Setting]: KindOf<S> extends "text" | "path" ? S : never }[Setting];
export type ListSetting = { [S in Setting]: KindOf<S> extends "list" ? S : never }[Setting];
export type BooleanSetting = { [S in Setting]: KindOf<S> extends "boolean" ? S : never }[Setting];

export type FileSettings = Partial<Record<Setting, string | string[] | boolean>>;

/** The parseArgs option table of every setting, plus --config and --help. */
export function flagOptions() {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
  };
  for (const [flag, { kind }] of Object.entries(SETTINGS)) {
    options[flag] =
      kind === "boolean"
        ? { type: "boolean" }
        : kind === "list"
          ? { type: "string", multiple: true }
          : { type: "string" };
  }
  return options;
}

/** Reads and checks a config file: a YAML mapping whose keys are the flags' names. */
export function readConfigFile(file: string): FileSettings {
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
  const settings: FileSettings = {};
  const base = dirname(resolve(file));
  for (const [key, value] of Object.entries(document)) {
    if (!Object.hasOwn(SETTINGS, key)) {
      throw new Error(`config file ${file}: unknown setting "${key}" (known: ${Object.keys(SETTINGS).join(", ")})`);
    }
    const setting = key as Setting;
    const { kind } = SETTINGS[setting];
    if (kind === "boolean") {
      if (typeof value !== "boolean") throw new Error(`config file ${file}: ${key}: expected true or false`);
      settings[setting] = value;
    } else if (kind === "list" && Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string")) throw new Error(`config file ${file}: ${key}: expected strings`);
      settings[setting] = value;
    } else if (typeof value === "string" || typeof value === "number") {
      const text = String(value);
      settings[setting] = kind === "path" && !isAbsolute(text) ? resolve(base, text) : kind === "list" ? [text] : text;
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

type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One setting's value from the first of: its flag, its environment variable, the config file. */
export class SettingSource {
  constructor(
    private readonly flags: FlagValues,
    private readonly env: NodeJS.ProcessEnv,
    private readonly file: FileSettings,
  ) {}

  text(setting: TextSetting): string | undefined {
    const flag = this.flags[setting];
    if (typeof flag === "string") return flag;
    const fromEnv = this.env[SETTINGS[setting].env];
    if (fromEnv) return fromEnv;
    const fromFile = this.file[setting];
    return typeof fromFile === "string" ? fromFile : undefined;
  }

  /** Repeated flags; a comma-separated variable; a string or a list in the file. */
  list(setting: ListSetting): string[] | undefined {
    const flag = this.flags[setting];
    if (Array.isArray(flag)) return flag.map(String);
    const fromEnv = this.env[SETTINGS[setting].env];
    if (fromEnv)
      return fromEnv
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const fromFile = this.file[setting];
    return Array.isArray(fromFile) ? fromFile : undefined;
  }

  boolean(setting: BooleanSetting): boolean | undefined {
    const flag = this.flags[setting];
    if (typeof flag === "boolean") return flag;
    const variable = SETTINGS[setting].env;
    const fromEnv = this.env[variable];
    if (fromEnv !== undefined && fromEnv !== "") {
      if (!/^(true|false)$/.test(fromEnv)) throw new Error(`${variable}: expected true or false, got "${fromEnv}"`);
      return fromEnv === "true";
    }
    const fromFile = this.file[setting];
    return typeof fromFile === "boolean" ? fromFile : undefined;
  }

  /**
   * Whether the setting was given explicitly, as a flag or in the config file (to refuse settings
   * that do not apply; environment variables may be set for other uses and are not held against it).
   */
  explicit(setting: Setting): boolean {
    return this.flags[setting] !== undefined || this.file[setting] !== undefined;
  }
}
