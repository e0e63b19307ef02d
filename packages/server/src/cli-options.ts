import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import { checkOidcOptions } from "./auth/oidc.js";
import type { ServerOptions } from "./http/start-server.js";
import { DEFAULT_CHART } from "./provider/kubernetes/helm.js";

export const USAGE = `Usage: vcluster-api-server [options]

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
  --oidc-groups-claim <claim>   claim with the caller's groups (default groups)
  --oidc-project-prefix <text>  only groups with this prefix are projects, named without it
  --oidc-admin-group <group>    members of this group are admins; repeatable
  --cors-origin <origin>        allow browser calls from origin; repeatable (env VCLUSTER_API_CORS_ORIGINS, comma-separated)
  --time-scale <n>              multiply simulated durations; 0 = instant (env VCLUSTER_API_TIME_SCALE, default 1)
  --heartbeat-interval <ms>     watch heartbeat interval (env VCLUSTER_API_HEARTBEAT_INTERVAL, default 5000)
  --history-limit <n>           watch events kept for resumption (env VCLUSTER_API_HISTORY_LIMIT, default 10000)
  --usage-sample-interval <ms>  at most one usage sample per vcluster per interval
                                (env VCLUSTER_API_USAGE_SAMPLE_INTERVAL, default 60000)
  --secret <text>               root secret for page and kubeconfig tokens (env VCLUSTER_API_SECRET)
  --tls-cert <file> --tls-key <file>   serve HTTPS (h2 + http/1.1 via ALPN)
  --console <dir>               serve a built web console at / (env VCLUSTER_API_CONSOLE_DIR)
  --max-concurrent-creates <n>  creates provisioned at once, more wait PENDING (env VCLUSTER_API_MAX_CONCURRENT_CREATES, default 0 = unlimited)
  --allow-remote-without-auth   allow a non-loopback host without auth
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
`;

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

/** Flags win over environment variables, which win over defaults. */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      store: { type: "string" },
      "auth-tokens": { type: "string" },
      "auth-config": { type: "string" },
      "oidc-issuer": { type: "string" },
      "oidc-audience": { type: "string", multiple: true },
      "oidc-groups-claim": { type: "string" },
      "oidc-project-prefix": { type: "string" },
      "oidc-admin-group": { type: "string", multiple: true },
      "cors-origin": { type: "string", multiple: true },
      "time-scale": { type: "string" },
      "heartbeat-interval": { type: "string" },
      "history-limit": { type: "string" },
      "usage-sample-interval": { type: "string" },
      secret: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      console: { type: "string" },
      "max-concurrent-creates": { type: "string" },
      "pg-pool-size": { type: "string" },
      "pg-statement-timeout": { type: "string" },
      "pg-ssl": { type: "string" },
      "pg-ssl-ca": { type: "string" },
      "operation-lease": { type: "string" },
      "allow-remote-without-auth": { type: "boolean" },
      provider: { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      "chart-repo": { type: "string" },
      "chart-name": { type: "string" },
      "chart-version": { type: "string" },
      helm: { type: "string" },
      "snapshot-url": { type: "string" },
      "ready-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const store = values.store ?? env.VCLUSTER_API_STORE ?? "sqlite:.data/vcluster.db";
  const postgresStore = store.startsWith("postgres://") || store.startsWith("postgresql://");
  if (store !== "memory" && !store.startsWith("sqlite:") && !postgresStore)
    throw new Error(`--store: expected memory, sqlite:<path> or postgres://…, got "${store}"`);
  const cors =
    values["cors-origin"] ??
    (env.VCLUSTER_API_CORS_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const authTokensFile = values["auth-tokens"] ?? env.VCLUSTER_API_AUTH_TOKENS;
  const secret = values.secret ?? env.VCLUSTER_API_SECRET;
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new Error("--tls-cert and --tls-key go together");
  const options: ServerOptions = {
    host: values.host ?? env.VCLUSTER_API_HOST ?? "127.0.0.1",
    port: number("--port", values.port ?? env.VCLUSTER_API_PORT) ?? 8080,
    store: store as ServerOptions["store"] & string,
    timeScale: number("--time-scale", values["time-scale"] ?? env.VCLUSTER_API_TIME_SCALE) ?? 1,
    corsOrigins: cors,
    allowRemoteWithoutAuth: values["allow-remote-without-auth"] === true,
  };
  const heartbeat = number("--heartbeat-interval", values["heartbeat-interval"] ?? env.VCLUSTER_API_HEARTBEAT_INTERVAL);
  if (heartbeat) options.heartbeatIntervalMs = heartbeat;
  const history = number("--history-limit", values["history-limit"] ?? env.VCLUSTER_API_HISTORY_LIMIT);
  if (history) options.historyLimit = history;
  const usageInterval = number(
    "--usage-sample-interval",
    values["usage-sample-interval"] ?? env.VCLUSTER_API_USAGE_SAMPLE_INTERVAL,
  );
  if (usageInterval) options.usageSampleIntervalMs = usageInterval;
  if (authTokensFile) options.authTokensFile = authTokensFile;
  const auth = authFromFlags(values, env);
  if (auth) options.auth = auth;
  if (secret) options.secret = secret;
  const maxCreates = number(
    "--max-concurrent-creates",
    values["max-concurrent-creates"] ?? env.VCLUSTER_API_MAX_CONCURRENT_CREATES,
  );
  if (maxCreates) options.maxConcurrentCreates = maxCreates;
  if (postgresStore) {
    // Page and kubeconfig tokens must verify on every replica behind the load balancer.
    if (!secret)
      throw new Error("--secret (or VCLUSTER_API_SECRET) is required with a postgres store: replicas share it");
    options.postgres = postgresOptions(values, env);
  }
  const lease = number("--operation-lease", values["operation-lease"] ?? env.VCLUSTER_API_OPERATION_LEASE);
  if (lease) options.operationLeaseMs = lease;
  const consoleDir = values.console ?? env.VCLUSTER_API_CONSOLE_DIR;
  if (consoleDir) options.consoleDir = consoleDir;
  const provider = values.provider ?? env.VCLUSTER_API_PROVIDER ?? "simulated";
  if (provider !== "simulated" && provider !== "kubernetes")
    throw new Error(`--provider: expected simulated or kubernetes, got "${provider}"`);
  const kubeOnly = [
    "kubeconfig",
    "context",
    "chart-repo",
    "chart-name",
    "chart-version",
    "helm",
    "snapshot-url",
    "ready-timeout",
  ];
  if (provider === "simulated") {
    const stray = kubeOnly.filter((flag) => values[flag as keyof typeof values] !== undefined);
    if (stray.length > 0) throw new Error(`--${stray[0]} needs --provider kubernetes`);
  } else {
    const kubeconfig = values.kubeconfig ?? env.VCLUSTER_API_KUBECONFIG ?? kubeconfigFromEnv(env);
    const context = values.context ?? env.VCLUSTER_API_KUBE_CONTEXT;
    const helm = values.helm ?? env.VCLUSTER_API_HELM;
    const snapshotUrl = values["snapshot-url"] ?? env.VCLUSTER_API_SNAPSHOT_URL;
    const readyTimeout = number("--ready-timeout", values["ready-timeout"] ?? env.VCLUSTER_API_READY_TIMEOUT);
    options.kubernetes = {
      connection: { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) },
      chart: {
        repo: values["chart-repo"] ?? env.VCLUSTER_API_CHART_REPO ?? DEFAULT_CHART.repo,
        name: values["chart-name"] ?? env.VCLUSTER_API_CHART_NAME ?? DEFAULT_CHART.name,
        version: values["chart-version"] ?? env.VCLUSTER_API_CHART_VERSION ?? DEFAULT_CHART.version,
      },
      ...(helm ? { helm } : {}),
      ...(snapshotUrl ? { snapshotUrl } : {}),
      ...(readyTimeout ? { readyTimeoutSeconds: readyTimeout } : {}),
    };
  }
  if (certFile && keyFile) options.tls = { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  return options;
}

type AuthFlags = {
  "auth-config"?: string | undefined;
  "oidc-issuer"?: string | undefined;
  "oidc-audience"?: string[] | undefined;
  "oidc-groups-claim"?: string | undefined;
  "oidc-project-prefix"?: string | undefined;
  "oidc-admin-group"?: string[] | undefined;
};

/** `--auth-config` names a file; the `--oidc-*` flags describe one issuer without a file. */
function authFromFlags(values: AuthFlags, env: NodeJS.ProcessEnv): ServerOptions["auth"] {
  const file = values["auth-config"] ?? env.VCLUSTER_API_AUTH_CONFIG;
  const issuer = values["oidc-issuer"] ?? env.VCLUSTER_API_OIDC_ISSUER;
  if (file && issuer)
    throw new Error("--oidc-issuer: put the issuer in the --auth-config file instead (use one or the other)");
  if (file) return file;
  if (!issuer) {
    if (values["oidc-audience"] || values["oidc-groups-claim"] || values["oidc-admin-group"]) {
      throw new Error("--oidc-audience, --oidc-groups-claim and --oidc-admin-group need --oidc-issuer");
    }
    return undefined;
  }
  const audiences =
    values["oidc-audience"] ??
    (env.VCLUSTER_API_OIDC_AUDIENCE ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (audiences.length === 0) throw new Error("--oidc-issuer needs at least one --oidc-audience");
  const claims = {
    ...(values["oidc-groups-claim"] ? { groups: values["oidc-groups-claim"] } : {}),
    ...(values["oidc-project-prefix"] !== undefined ? { projectPrefix: values["oidc-project-prefix"] } : {}),
    ...(values["oidc-admin-group"] ? { adminGroups: values["oidc-admin-group"] } : {}),
  };
  const oidc = { issuer, audiences, claims };
  checkOidcOptions(oidc);
  return { authenticators: [{ oidc }] };
}

function postgresOptions(
  values: Record<string, string | boolean | string[] | undefined>,
  env: NodeJS.ProcessEnv,
): NonNullable<ServerOptions["postgres"]> {
  const text = (flag: string, variable: string) => {
    const value = values[flag] ?? env[variable];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const result: NonNullable<ServerOptions["postgres"]> = {};
  const pool = number("--pg-pool-size", text("pg-pool-size", "VCLUSTER_API_PG_POOL_SIZE"));
  if (pool !== undefined) {
    if (!Number.isInteger(pool) || pool < 1)
      throw new Error(`--pg-pool-size: expected a positive integer, got ${pool}`);
    result.poolSize = pool;
  }
  const timeout = number("--pg-statement-timeout", text("pg-statement-timeout", "VCLUSTER_API_PG_STATEMENT_TIMEOUT"));
  if (timeout !== undefined) result.statementTimeoutMs = timeout;
  const ssl = text("pg-ssl", "VCLUSTER_API_PG_SSL") ?? "disable";
  const caFile = text("pg-ssl-ca", "VCLUSTER_API_PG_SSL_CA");
  if (ssl === "require") result.ssl = "require";
  else if (ssl === "verify-full") result.ssl = caFile ? { ca: readFileSync(caFile, "utf8") } : true;
  else if (ssl !== "disable") throw new Error(`--pg-ssl: expected disable, require or verify-full, got "${ssl}"`);
  if (caFile && ssl !== "verify-full") throw new Error("--pg-ssl-ca needs --pg-ssl verify-full");
  return result;
}
