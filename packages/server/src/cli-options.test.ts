import { describe, expect, it } from "vitest";
import { parseCliOptions } from "./cli-options.js";

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
