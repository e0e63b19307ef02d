import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import { checkOidcOptions } from "./auth/oidc.js";
import type { ServerOptions } from "./http/start-server.js";
import { LOG_LEVELS } from "./logger.js";
import { DEFAULT_CHART } from "./provider/kubernetes/helm.js";
import { flagOptions, readConfigFile, type Setting, SettingSource } from "./settings.js";

export { readConfigFile } from "./settings.js";

export const USAGE = `Usage: vcluster-api-server [options]

  --config <file>               YAML settings file, keys named as these flags (env VCLUSTER_API_SERVER_CONFIG)
  --host <host>                 listen address (env VCLUSTER_API_HOST, default 127.0.0.1)
  --port <port>                 listen port (env VCLUSTER_API_PORT, default 8080; 0 = any)
  --store <spec>                memory | sqlite:<path> | postgres://user@host:port/db (env VCLUSTER_API_STORE, default sqlite:.data/vcluster.db)
  --pg-pool-size <n>            PostgreSQL connections per replica (env VCLUSTER_API_PG_POOL_SIZE, default 10)
  --pg-statement-timeout <ms>   cancel statements running longer (env VCLUSTER_API_PG_STATEMENT_TIMEOUT, default 30000)
  --pg-ssl <mode>               disable | require (encrypt) | verify-full (encrypt, verify the server) (env VCLUSTER_API_PG_SSL, default disable)
  --pg-ssl-ca <file>            CA certificates to verify the server with (env VCLUSTER_API_PG_SSL_CA)
  --operation-lease <ms>        how long a replica's claim on an operation lasts unrenewed (env VCLUSTER_API_OPERATION_LEASE, default 15000)
  --auth-tokens <file>          static bearer tokens, YAML or JSON (env VCLUSTER_API_AUTH_TOKENS)
  --auth-config <file>          authenticators tried in order: static, oidc, tokenReview (env VCLUSTER_API_AUTH_CONFIG)
  --oidc-issuer <url>           accept JWTs of this OpenID issuer (env VCLUSTER_API_OIDC_ISSUER)
  --oidc-audience <aud>         audience the JWTs must carry; repeatable (env VCLUSTER_API_OIDC_AUDIENCE, comma-separated)
  --oidc-groups-claim <claim>   claim with the caller's groups (env VCLUSTER_API_OIDC_GROUPS_CLAIM, default groups)
  --oidc-project-prefix <text>  only groups with this prefix are projects, named without it (env VCLUSTER_API_OIDC_PROJECT_PREFIX)
  --oidc-admin-group <group>    members of this group are admins; repeatable (env VCLUSTER_API_OIDC_ADMIN_GROUPS, comma-separated)
  --cors-origin <origin>        allow browser calls from origin; repeatable (env VCLUSTER_API_CORS_ORIGINS, comma-separated)
  --time-scale <n>              multiply simulated durations; 0 = instant (env VCLUSTER_API_TIME_SCALE, default 1)
  --heartbeat-interval <ms>     watch heartbeat interval (env VCLUSTER_API_HEARTBEAT_INTERVAL, default 5000)
  --history-limit <n>           watch events kept for resumption (env VCLUSTER_API_HISTORY_LIMIT, default 10000)
  --usage-sample-interval <ms>  at most one usage sample per vcluster per interval
                                (env VCLUSTER_API_USAGE_SAMPLE_INTERVAL, default 60000)
  --secret <text>               root secret for page and kubeconfig tokens (env VCLUSTER_API_SECRET)
  --tls-cert <file> --tls-key <file>   serve HTTPS (h2 + http/1.1 via ALPN) (env VCLUSTER_API_TLS_CERT, VCLUSTER_API_TLS_KEY)
  --console <dir>               serve a built web console at / (env VCLUSTER_API_CONSOLE_DIR)
  --max-concurrent-creates <n>  creates provisioned at once, more wait PENDING (env VCLUSTER_API_MAX_CONCURRENT_CREATES, default 0 = unlimited)
  --log-level <level>           trace | debug | info | warn | error | fatal | silent (env VCLUSTER_API_LOG_LEVEL, default info)
  --allow-remote-without-auth   allow a non-loopback host without auth (env VCLUSTER_API_ALLOW_REMOTE_WITHOUT_AUTH=true)
  --provider <name>             simulated | kubernetes (env VCLUSTER_API_PROVIDER, default simulated)
  --kubeconfig <file>           kubernetes: host cluster kubeconfig (env VCLUSTER_API_KUBECONFIG, then KUBECONFIG,
                                then in-cluster service account, then ~/.kube/config)
  --context <name>              kubernetes: kubeconfig context (env VCLUSTER_API_KUBE_CONTEXT, default current)
  --chart-repo <repo>           kubernetes: https:// repo, oci:// registry or local chart path
                                (env VCLUSTER_API_CHART_REPO, default https://charts.loft.sh)
  --chart-name <name>           kubernetes: chart name (env VCLUSTER_API_CHART_NAME, default vcluster)
  --chart-version <version>     kubernetes: chart version (env VCLUSTER_API_CHART_VERSION, default newest)
  --helm <path>                 kubernetes: helm binary (env VCLUSTER_API_HELM, default helm on PATH)
  --snapshot-url <url>          kubernetes: vcluster snapshot storage, oci:// s3:// container:/// (env VCLUSTER_API_SNAPSHOT_URL)
  --ready-timeout <seconds>     kubernetes: wait for Ready control-plane pods (env VCLUSTER_API_READY_TIMEOUT, default 600)
  --help                        show this help

Each setting comes from the first of: its flag, its environment variable, the config file, the default.
Relative paths in the config file are relative to the file's folder.
Tracing is configured with the standard OpenTelemetry variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, ...).
`;

/** Settings that only mean something to the Kubernetes provider. */
const KUBERNETES_SETTINGS: readonly Setting[] = [
  "kubeconfig",
  "context",
  "chart-repo",
  "chart-name",
  "chart-version",
  "helm",
  "snapshot-url",
  "ready-timeout",
];

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a non-negative number, got "${text}"`);
  return value;
}

/** KUBECONFIG's first file; none inside a pod (in-cluster config); else ~/.kube/config. */
function kubeconfigFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const first = env.KUBECONFIG?.split(delimiter).find(Boolean);
  if (first) return first;
  if (env.KUBERNETES_SERVICE_HOST) return undefined;
  return join(env.HOME ?? homedir(), ".kube", "config");
}

/** Flags win over environment variables, which win over the config file, which wins over defaults. */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | "help" {
  const { values } = parseArgs({ args: argv, strict: true, options: flagOptions() });
  if (values.help) return "help";
  const configFile = (values.config as string | undefined) ?? env.VCLUSTER_API_SERVER_CONFIG;
  const settings = new SettingSource(values, env, configFile ? readConfigFile(configFile) : {});

  const store = settings.text("store") ?? "sqlite:.data/vcluster.db";
  const postgresStore = store.startsWith("postgres://") || store.startsWith("postgresql://");
  if (store !== "memory" && !store.startsWith("sqlite:") && !postgresStore)
    throw new Error(`--store: expected memory, sqlite:<path> or postgres://…, got "${store}"`);
  const logLevel = settings.text("log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new Error(`--log-level: expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  const certFile = settings.text("tls-cert");
  const keyFile = settings.text("tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error("--tls-cert and --tls-key go together");

  const options: ServerOptions = {
    host: settings.text("host") ?? "127.0.0.1",
    port: number("--port", settings.text("port")) ?? 8080,
    store: store as ServerOptions["store"] & string,
    timeScale: number("--time-scale", settings.text("time-scale")) ?? 1,
    corsOrigins: settings.list("cors-origin") ?? [],
    allowRemoteWithoutAuth: settings.boolean("allow-remote-without-auth") ?? false,
    logLevel: logLevel as NonNullable<ServerOptions["logLevel"]>,
  };
  const heartbeat = number("--heartbeat-interval", settings.text("heartbeat-interval"));
  if (heartbeat) options.heartbeatIntervalMs = heartbeat;
  const history = number("--history-limit", settings.text("history-limit"));
  if (history) options.historyLimit = history;
  const usageInterval = number("--usage-sample-interval", settings.text("usage-sample-interval"));
  if (usageInterval) options.usageSampleIntervalMs = usageInterval;
  const authTokensFile = settings.text("auth-tokens");
  if (authTokensFile) options.authTokensFile = authTokensFile;
  const auth = authFromSettings(settings);
  if (auth) options.auth = auth;
  const secret = settings.text("secret");
  if (secret) options.secret = secret;
  const maxCreates = number("--max-concurrent-creates", settings.text("max-concurrent-creates"));
  if (maxCreates) options.maxConcurrentCreates = maxCreates;
  if (postgresStore) {
    // Page and kubeconfig tokens must verify on every replica behind the load balancer.
    if (!secret)
      throw new Error("--secret (or VCLUSTER_API_SECRET) is required with a postgres store: replicas share it");
    options.postgres = postgresOptions(settings);
  }
  const lease = number("--operation-lease", settings.text("operation-lease"));
  if (lease) options.operationLeaseMs = lease;
  const consoleDir = settings.text("console");
  if (consoleDir) options.consoleDir = consoleDir;
  const kubernetes = kubernetesOptions(settings, env);
  if (kubernetes) options.kubernetes = kubernetes;
  if (certFile && keyFile) options.tls = { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  return options;
}

function kubernetesOptions(settings: SettingSource, env: NodeJS.ProcessEnv): ServerOptions["kubernetes"] {
  const provider = settings.text("provider") ?? "simulated";
  if (provider !== "simulated" && provider !== "kubernetes")
    throw new Error(`--provider: expected simulated or kubernetes, got "${provider}"`);
  if (provider === "simulated") {
    const stray = KUBERNETES_SETTINGS.find((setting) => settings.explicit(setting));
    if (stray) throw new Error(`--${stray} needs --provider kubernetes`);
    return undefined;
  }
  const kubeconfig = settings.text("kubeconfig") ?? kubeconfigFromEnv(env);
  const context = settings.text("context");
  const helm = settings.text("helm");
  const snapshotUrl = settings.text("snapshot-url");
  const readyTimeout = number("--ready-timeout", settings.text("ready-timeout"));
  return {
    connection: { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
    chart: {
      repo: settings.text("chart-repo") ?? DEFAULT_CHART.repo,
      name: settings.text("chart-name") ?? DEFAULT_CHART.name,
      version: settings.text("chart-version") ?? DEFAULT_CHART.version,
    },
    ...(helm ? { helm } : {}),
    ...(snapshotUrl ? { snapshotUrl } : {}),
    ...(readyTimeout ? { readyTimeoutSeconds: readyTimeout } : {}),
  };
}

/** `--auth-config` names a file; the `--oidc-*` settings describe one issuer without a file. */
function authFromSettings(settings: SettingSource): ServerOptions["auth"] {
  const file = settings.text("auth-config");
  const issuer = settings.text("oidc-issuer");
  if (file && issuer)
    throw new Error("--oidc-issuer: put the issuer in the --auth-config file instead (use one or the other)");
  if (file) return file;
  const groupsClaim = settings.text("oidc-groups-claim");
  const projectPrefix = settings.text("oidc-project-prefix");
  const adminGroups = settings.list("oidc-admin-group");
  if (!issuer) {
    if (settings.list("oidc-audience") || groupsClaim || adminGroups) {
      throw new Error("--oidc-audience, --oidc-groups-claim and --oidc-admin-group need --oidc-issuer");
    }
    return undefined;
  }
  const audiences = settings.list("oidc-audience") ?? [];
  if (audiences.length === 0) throw new Error("--oidc-issuer needs at least one --oidc-audience");
  const claims = {
    ...(groupsClaim ? { groups: groupsClaim } : {}),
    ...(projectPrefix !== undefined ? { projectPrefix } : {}),
    ...(adminGroups ? { adminGroups } : {}),
  };
  const oidc = { issuer, audiences, claims };
  checkOidcOptions(oidc);
  return { authenticators: [{ oidc }] };
}

function postgresOptions(settings: SettingSource): NonNullable<ServerOptions["postgres"]> {
  const result: NonNullable<ServerOptions["postgres"]> = {};
  const pool = number("--pg-pool-size", settings.text("pg-pool-size"));
  if (pool !== undefined) {
    if (!Number.isInteger(pool) || pool < 1)
      throw new Error(`--pg-pool-size: expected a positive integer, got ${pool}`);
    result.poolSize = pool;
  }
  const timeout = number("--pg-statement-timeout", settings.text("pg-statement-timeout"));
  if (timeout !== undefined) result.statementTimeoutMs = timeout;
  const ssl = settings.text("pg-ssl") ?? "disable";
  const caFile = settings.text("pg-ssl-ca");
  if (ssl === "require") result.ssl = "require";
  else if (ssl === "verify-full") result.ssl = caFile ? { ca: readFileSync(caFile, "utf8") } : true;
  else if (ssl !== "disable") throw new Error(`--pg-ssl: expected disable, require or verify-full, got "${ssl}"`);
  if (caFile && ssl !== "verify-full") throw new Error("--pg-ssl-ca needs --pg-ssl verify-full");
  return result;
}
