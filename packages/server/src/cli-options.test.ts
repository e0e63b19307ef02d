import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCliOptions } from "./cli-options.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "server-config-"));
  dirs.push(dir);
  const file = join(dir, "server.yaml");
  writeFileSync(file, yaml);
  return file;
}

function parse(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const options = parseCliOptions(argv, env);
  if (options === "help") throw new Error("unexpected help");
  return options;
}

describe("server settings", () => {
  it("accept every flag as a config-file key: PostgreSQL, authentication and Kubernetes too", () => {
    const file = configFile(
      [
        "store: postgres://vc@db.example:5432/vcluster",
        "secret: shared",
        "pg-pool-size: 4",
        "operation-lease: 5000",
        "oidc-issuer: https://issuer.example",
        "oidc-audience: [vcluster-api, console]",
        "oidc-admin-group: platform-admins",
        "provider: kubernetes",
        "kubeconfig: host.kubeconfig",
        "context: host",
        "chart-version: 0.30.1",
      ].join("\n"),
    );
    const options = parse(["--config", file], { VCLUSTER_API_PG_POOL_SIZE: "6" });
    expect(options).toMatchObject({
      store: "postgres://vc@db.example:5432/vcluster",
      secret: "shared",
      postgres: { poolSize: 6 },
      operationLeaseMs: 5000,
      auth: {
        authenticators: [
          {
            oidc: {
              issuer: "https://issuer.example",
              audiences: ["vcluster-api", "console"],
              claims: { adminGroups: ["platform-admins"] },
            },
          },
        ],
      },
      kubernetes: {
        connection: { kubeconfig: join(dirs[0] ?? "", "host.kubeconfig"), context: "host" },
        chart: { version: "0.30.1" },
      },
    });
  });

  it("refuses Kubernetes settings in the config file without the kubernetes provider", () => {
    expect(() => parse(["--config", configFile("context: host\n")])).toThrow("--context needs --provider kubernetes");
  });

  it("take flags over environment over config file over defaults", () => {
    const file = configFile("port: 9001\nhost: 127.0.0.2\nlog-level: debug\ntime-scale: 3\nhistory-limit: 50\n");
    const env = { VCLUSTER_API_PORT: "9002", VCLUSTER_API_HOST: "127.0.0.3" };
    const options = parse(["--config", file, "--port", "9003"], env);
    expect(options.port).toBe(9003); // flag
    expect(options.host).toBe("127.0.0.3"); // environment
    expect(options.logLevel).toBe("debug"); // file
    expect(options.timeScale).toBe(3);
    expect(options.historyLimit).toBe(50);
    expect(options.store).toBe("sqlite:.data/vcluster.db"); // default
  });

  it("find the config file through VCLUSTER_API_SERVER_CONFIG", () => {
    const file = configFile("store: memory\n");
    expect(parse([], { VCLUSTER_API_SERVER_CONFIG: file }).store).toBe("memory");
  });

  it("read paths in the config file relative to it", () => {
    const file = configFile("store: sqlite:data/vc.db\nconsole: ../web\nauth-tokens: /etc/tokens.yaml\n");
    const dir = join(file, "..");
    const options = parse(["--config", file]);
    expect(options.store).toBe(`sqlite:${join(dir, "data", "vc.db")}`);
    expect(options.consoleDir).toBe(join(dir, "..", "web"));
    expect(options.authTokensFile).toBe("/etc/tokens.yaml");
  });

  it("take lists and booleans from the config file", () => {
    const file = configFile("cors-origin: [https://a.example, https://b.example]\nallow-remote-without-auth: true\n");
    const options = parse(["--config", file]);
    expect(options.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(options.allowRemoteWithoutAuth).toBe(true);
    expect(parse(["--config", file], { VCLUSTER_API_CORS_ORIGINS: "https://c.example" }).corsOrigins).toEqual([
      "https://c.example",
    ]);
    expect(parse(["--config", file, "--cors-origin", "https://d.example"]).corsOrigins).toEqual(["https://d.example"]);
  });

  it("reject unknown keys, wrong types, bad YAML and missing files, naming the problem", () => {
    expect(() => parse(["--config", configFile("prot: 1\n")])).toThrow(/unknown setting "prot" \(known: host, port/);
    expect(() => parse(["--config", configFile("port: [1]\n")])).toThrow(/port: expected a string or a number/);
    expect(() => parse(["--config", configFile("allow-remote-without-auth: yes please\n")])).toThrow(
      /allow-remote-without-auth: expected true or false/,
    );
    expect(() => parse(["--config", configFile("- port\n")])).toThrow(/expected a mapping of settings/);
    expect(() => parse(["--config", configFile("port: [\n")])).toThrow(/not valid YAML/);
    expect(() => parse(["--config", "/nonexistent/server.yaml"])).toThrow(
      /config file \/nonexistent\/server.yaml: ENOENT/,
    );
    expect(() => parse(["--config", configFile("port: -1\n")])).toThrow(/--port: expected a non-negative number/);
  });

  it("accept an empty config file", () => {
    expect(parse(["--config", configFile("")]).port).toBe(8080);
  });

  it("check the log level", () => {
    expect(parse(["--log-level", "warn"]).logLevel).toBe("warn");
    expect(parse([], { VCLUSTER_API_LOG_LEVEL: "error" }).logLevel).toBe("error");
    expect(parse([]).logLevel).toBe("info");
    expect(() => parse(["--log-level", "loud"])).toThrow(/--log-level: expected one of trace, debug, info/);
  });
});

describe("provider options", () => {
  it("keeps the simulated provider by default and refuses kubernetes flags without it", () => {
    expect(parseCliOptions([], {})).not.toHaveProperty("kubernetes");
    expect(() => parseCliOptions(["--context", "kind-host"], {})).toThrow("--context needs --provider kubernetes");
    expect(() => parseCliOptions(["--provider", "docker"], {})).toThrow(/expected simulated or kubernetes/);
  });

  it("reads flags before environment variables, with the official chart as default", () => {
    const options = parseCliOptions(
      ["--provider", "kubernetes", "--kubeconfig", "/etc/host.kubeconfig", "--chart-version", "0.30.1"],
      { VCLUSTER_API_KUBE_CONTEXT: "prod", VCLUSTER_API_CHART_VERSION: "0.29.0", VCLUSTER_API_HELM: "/opt/helm" },
    );
    expect(options).toMatchObject({
      kubernetes: {
        connection: { kubeconfig: "/etc/host.kubeconfig", context: "prod" },
        chart: { repo: "https://charts.loft.sh", name: "vcluster", version: "0.30.1" },
        helm: "/opt/helm",
      },
    });
  });

  it("finds the kubeconfig like kubectl: KUBECONFIG, in-cluster, then ~/.kube/config", () => {
    const k = (env: NodeJS.ProcessEnv) =>
      (parseCliOptions(["--provider", "kubernetes"], env) as { kubernetes: { connection: object } }).kubernetes
        .connection;
    expect(k({ KUBECONFIG: "/a:/b", HOME: "/home/u" })).toEqual({ kubeconfig: "/a" });
    expect(k({ KUBERNETES_SERVICE_HOST: "10.96.0.1", HOME: "/home/u" })).toEqual({});
    expect(k({ HOME: "/home/u" })).toEqual({ kubeconfig: "/home/u/.kube/config" });
    expect(k({ VCLUSTER_API_PROVIDER: "kubernetes", VCLUSTER_API_KUBECONFIG: "/x", HOME: "/h" })).toEqual({
      kubeconfig: "/x",
    });
  });
});

describe("postgres options", () => {
  const url = "postgres://vc@db.example:5432/vcluster";

  it("takes the store from --store or VCLUSTER_API_STORE, and wants the shared secret replicas need", () => {
    expect(() => parseCliOptions(["--store", url], {})).toThrow(/--secret .* is required with a postgres store/);
    expect(parseCliOptions([], { VCLUSTER_API_STORE: url, VCLUSTER_API_SECRET: "s" })).toMatchObject({
      store: url,
      postgres: {},
    });
  });

  it("sets pool size, statement timeout, TLS and the operation lease, flags over environment", () => {
    const options = parseCliOptions(
      ["--store", url, "--secret", "s", "--pg-pool-size", "20", "--pg-ssl", "require", "--operation-lease", "5000"],
      { VCLUSTER_API_PG_POOL_SIZE: "3", VCLUSTER_API_PG_STATEMENT_TIMEOUT: "2500" },
    );
    expect(options).toMatchObject({
      postgres: { poolSize: 20, statementTimeoutMs: 2500, ssl: "require" },
      operationLeaseMs: 5000,
    });
    expect(() => parseCliOptions(["--store", url, "--secret", "s", "--pg-ssl", "sometimes"], {})).toThrow(/--pg-ssl/);
    expect(() => parseCliOptions(["--store", url, "--secret", "s", "--pg-pool-size", "0.5"], {})).toThrow(
      /--pg-pool-size/,
    );
  });

  it("refuses a store it does not know", () => {
    expect(() => parseCliOptions(["--store", "mysql://x"], {})).toThrow(/expected memory, sqlite:<path> or postgres/);
  });
});

describe("history options", () => {
  it("bounds the usage sampling rate from the flag or the environment, and refuses a non-number", () => {
    expect(parseCliOptions(["--usage-sample-interval", "5000"], {})).toMatchObject({ usageSampleIntervalMs: 5000 });
    expect(parseCliOptions([], { VCLUSTER_API_USAGE_SAMPLE_INTERVAL: "250" })).toMatchObject({
      usageSampleIntervalMs: 250,
    });
    expect(parseCliOptions([], {})).not.toHaveProperty("usageSampleIntervalMs");
    expect(() => parseCliOptions(["--usage-sample-interval", "often"], {})).toThrow(/--usage-sample-interval/);
  });
});
