import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseServerArgs } from "@open-vcluster/server";
import { describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const CHART = fileURLToPath(new URL("../helm/vcluster-api-server", import.meta.url));
const helm = (...args: string[]) => run(inject("helm"), args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary Kubernetes objects.
type Field = any;
type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> } } & Record<
  string,
  Field
>;

async function render(...set: string[]): Promise<Manifest[]> {
  const { stdout } = await helm("template", "demo", CHART, "--namespace", "apis", ...set.flatMap((s) => ["--set", s]));
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const one = (manifests: Manifest[], kind: string): Manifest => {
  const found = byKind(manifests, kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
};

/** The server's own flag parser reads the chart's config file, so the two cannot drift apart. */
function serverOptionsOf(manifests: Manifest[]) {
  const dir = mkdtempSync(join(tmpdir(), "chart-config-"));
  try {
    const file = join(dir, "server.yaml");
    writeFileSync(file, one(manifests, "ConfigMap").data["server.yaml"]);
    const options = parseServerArgs(["--config", file], {});
    if (options === "help") throw new Error("unexpected help");
    return options;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the Helm chart", () => {
  it("passes helm lint --strict", async () => {
    const { stdout } = await helm("lint", "--strict", CHART);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders a Deployment, Service, RBAC, config, tokens and a volume by default", async () => {
    const manifests = await render();
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "ConfigMap",
      "Deployment",
      "PersistentVolumeClaim",
      "Secret",
      "Service",
      "ServiceAccount",
    ]);
    const deployment = one(manifests, "Deployment");
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe("Recreate");
    const pod = deployment.spec.template;
    expect(pod.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8080",
      "prometheus.io/path": "/metrics",
    });
    expect(pod.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.spec.serviceAccountName).toBe("demo-vcluster-api-server");
    const [container] = pod.spec.containers;
    expect(container.args).toEqual(["--config", "/etc/vcluster-api/server.yaml"]);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/livez", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.startupProbe.httpGet).toEqual({ path: "/livez", port: "http" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);

    const service = one(manifests, "Service");
    expect(service.spec.ports).toEqual([
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP", appProtocol: "http" },
    ]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    const binding = one(manifests, "ClusterRoleBinding");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "demo-vcluster-api-server", namespace: "apis" }]);
    expect(one(manifests, "PersistentVolumeClaim").metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
  });

  it("writes a config file the server accepts, listening on all interfaces with auth", async () => {
    const manifests = await render("config.log-level=debug", "config.max-concurrent-creates=3", "service.port=9090");
    const options = serverOptionsOf(manifests);
    expect(options).toMatchObject({
      host: "0.0.0.0",
      port: 9090,
      store: "sqlite:/data/vcluster.db",
      logLevel: "debug",
      maxConcurrentCreates: 3,
      authTokensFile: "/etc/vcluster-api/tokens/tokens.yaml",
      consoleDir: "/app/console",
      allowRemoteWithoutAuth: false,
    });
    const secret = one(manifests, "Secret");
    expect(secret.stringData["admin-token"]).toMatch(/^vca_[A-Za-z0-9]{40}$/);
    expect(secret.stringData["tokens.yaml"]).toContain(secret.stringData["admin-token"]);
  });

  it("keeps the chart's settings when values try to override them", async () => {
    const options = serverOptionsOf(await render("config.host=127.0.0.1", "config.store=memory"));
    expect(options).toMatchObject({ host: "0.0.0.0", store: "sqlite:/data/vcluster.db" });
  });

  it("uses an existing tokens Secret, or none when told to serve without auth", async () => {
    const existing = await render("auth.existingSecret=my-tokens", "auth.existingSecretKey=file.yaml");
    expect(byKind(existing, "Secret")).toEqual([]);
    const volume = one(existing, "Deployment").spec.template.spec.volumes.find(
      (v: { name: string }) => v.name === "tokens",
    );
    expect(volume.secret).toEqual({ secretName: "my-tokens", items: [{ key: "file.yaml", path: "tokens.yaml" }] });

    const open = await render("auth.allowUnauthenticated=true");
    expect(byKind(open, "Secret")).toEqual([]);
    expect(serverOptionsOf(open)).toMatchObject({ allowRemoteWithoutAuth: true });
    expect(serverOptionsOf(open).authTokensFile).toBeUndefined();
  });

  it("turns off RBAC, persistence and scrape annotations, and adds a ServiceMonitor, on request", async () => {
    const manifests = await render(
      "rbac.create=false",
      "serviceAccount.create=false",
      "persistence.enabled=false",
      "metrics.podAnnotations=false",
      "metrics.serviceMonitor.enabled=true",
    );
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "Secret",
      "Service",
      "ServiceMonitor",
    ]);
    const pod = one(manifests, "Deployment").spec.template;
    expect(pod.metadata.annotations["prometheus.io/scrape"]).toBeUndefined();
    expect(pod.spec.volumes.find((v: { name: string }) => v.name === "data")).toEqual({ name: "data", emptyDir: {} });
    expect(one(manifests, "ServiceMonitor").spec.endpoints).toEqual([
      { port: "http", path: "/metrics", interval: "30s" },
    ]);
  });

  it("refuses more than one replica of the SQLite store, saying why", async () => {
    await expect(render("replicaCount=2")).rejects.toThrow(/replicaCount: the SQLite store lives on one volume/);
  });
});
