import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { buildKubeconfig, type KubeconfigFormat } from "./build-kubeconfig.js";
import { CertificateAuthority } from "./certificate-authority.js";
import { verifyKubeconfigToken } from "./kubeconfig-token.js";

const KEY = new TextEncoder().encode("test-signing-key-0123456789abcdef");
const AUTHORITY = new CertificateAuthority(new TextEncoder().encode("test-ca-seed-0123456789abcdef0123"));
const NOW = new Date("2030-01-02T03:04:05Z");
const HOUR = 3600_000;
const ENTRY = "vcluster_dev_team-a";

function vcluster(overrides: Partial<{ endpoint: string }> = {}): VCluster {
  return create(VClusterSchema, {
    id: "0b6f0c1e-8f1a-4c1b-9d4e-2a3b4c5d6e7f",
    name: "dev",
    namespace: "team-a",
    owner: "alice",
    status: { apiServerEndpoint: overrides.endpoint ?? "https://dev.team-a.vcluster.local:443" },
  });
}

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  "current-context": string;
}

function build(format: KubeconfigFormat, validityHours = 0, target = vcluster()) {
  const built = buildKubeconfig({
    vcluster: target,
    format,
    now: NOW,
    validityHours,
    signingKey: KEY,
    authority: AUTHORITY,
  });
  return { ...built, config: parse(built.yaml) as Kubeconfig };
}

function decodePem(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

/** Built by the global setup (test/go-tools.ts), or KUBECTL; a missing one fails loudly rather than skipping. */
const KUBECTL = inject("kubectl");

function requireKubectl(): void {
  try {
    execFileSync(KUBECTL, ["version", "--client"], { stdio: "ignore", timeout: 120_000 });
  } catch {
    throw new Error(`kubectl is needed to check the kubeconfigs (install it or set KUBECTL to its path)`);
  }
}

describe("buildKubeconfig", () => {
  it.each<KubeconfigFormat>(["default", "exec", "token"])("%s: has the structure kubectl reads", (format) => {
    const { config } = build(format);
    expect(config.apiVersion).toBe("v1");
    expect(config.kind).toBe("Config");
    expect(config.clusters).toHaveLength(1);
    expect(config.users).toHaveLength(1);
    expect(config.contexts).toHaveLength(1);
    expect(config.clusters[0]?.name).toBe(ENTRY);
    expect(config.clusters[0]?.cluster.server).toBe("https://dev.team-a.vcluster.local:443");
    expect(decodePem(config.clusters[0]?.cluster["certificate-authority-data"] ?? "")).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/,
    );
    expect(config.users[0]?.name).toBe(ENTRY);
    expect(config.contexts[0]).toEqual({ name: ENTRY, context: { cluster: ENTRY, user: ENTRY } });
    expect(config["current-context"]).toBe(ENTRY);
  });

  it("falls back to the simulated endpoint when the status has none", () => {
    const { config } = build("exec", 0, vcluster({ endpoint: "" }));
    expect(config.clusters[0]?.cluster.server).toBe("https://dev.team-a.vcluster.local:443");
  });

  it("carries the server's CA in every format", () => {
    const first = build("default").config.clusters[0]?.cluster["certificate-authority-data"];
    const second = build("token").config.clusters[0]?.cluster["certificate-authority-data"];
    expect(first).toBe(second);
    expect(decodePem(first ?? "")).toBe(AUTHORITY.certificatePem);
  });

  it("default: embeds a real client certificate and key, valid for a year, that chain to the CA", () => {
    const { config, expiresAt } = build("default");
    const user = config.users[0]?.user as Record<string, string>;
    expect(Object.keys(user).sort()).toEqual(["client-certificate-data", "client-key-data"]);
    expect(expiresAt?.getTime()).toBe(NOW.getTime() + 365 * 24 * HOUR);

    const ca = new X509Certificate(decodePem(config.clusters[0]?.cluster["certificate-authority-data"] ?? ""));
    const client = new X509Certificate(decodePem(user["client-certificate-data"] ?? ""));
    const key = createPrivateKey(decodePem(user["client-key-data"] ?? ""));
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(client.ca).toBe(false);
    expect(client.checkIssued(ca)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.checkPrivateKey(key)).toBe(true);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(client.subject).toBe("O=system:masters\nCN=alice");
    expect(client.subjectAltName).toBe(`URI:urn:open-vcluster:vcluster:${vcluster().id}`);
    expect(client.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // clientAuth
    expect(new Date(client.validFrom).getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(new Date(client.validTo).getTime()).toBe(expiresAt?.getTime());
    // Another authority's certificate does not verify it.
    const stranger = new CertificateAuthority(new TextEncoder().encode("another-seed-0123456789abcdef012"));
    expect(client.verify(new X509Certificate(stranger.certificatePem).publicKey)).toBe(false);
  });

  it("issues a fresh key per kubeconfig", () => {
    const key = (b: ReturnType<typeof build>) => b.config.users[0]?.user?.["client-key-data"];
    expect(key(build("default"))).not.toBe(key(build("default")));
  });

  it("exec: calls the vcluster-api credential plugin without prompting", () => {
    const { config, expiresAt } = build("exec");
    expect(config.users[0]?.user).toEqual({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "vcluster-api",
        args: ["kubeconfig", "token", "--name", "dev", "--namespace", "team-a"],
        interactiveMode: "Never",
        provideClusterInfo: false,
      },
    });
    expect(expiresAt).toBeUndefined();
  });

  it.each([
    [0, 24],
    [1, 1],
    [720, 720],
  ])("token: validity %i hours lasts %i hours", (validityHours, hours) => {
    const { config, expiresAt } = build("token", validityHours);
    const token = (config.users[0]?.user as { token?: string } | undefined)?.token ?? "";
    expect(token).toMatch(/^vct_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(expiresAt?.getTime()).toBe(NOW.getTime() + hours * HOUR);
    const verified = verifyKubeconfigToken(token, KEY, NOW);
    expect(verified).toEqual({
      valid: true,
      claims: { vclusterId: vcluster().id, name: "dev", namespace: "team-a", issuedAt: NOW, expiresAt },
    });
  });

  it.each([-1, 721, 1.5])("token: refuses validity %d hours", (validityHours) => {
    expect(() => build("token", validityHours)).toThrow(RangeError);
  });

  it("refuses unknown formats", () => {
    expect(() => build("oidc" as KubeconfigFormat)).toThrow(/unknown kubeconfig format "oidc"/);
  });

  it("is accepted by kubectl", () => {
    requireKubectl();
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
    try {
      for (const format of ["default", "exec", "token"] as const) {
        const file = join(dir, `${format}.yaml`);
        const built = build(format);
        writeFileSync(file, built.yaml);
        const kubectl = (...args: string[]) =>
          execFileSync(KUBECTL, [...args, "--kubeconfig", file], { encoding: "utf8", timeout: 120_000 });
        expect(kubectl("config", "current-context").trim()).toBe(ENTRY);
        const view = JSON.parse(kubectl("config", "view", "--raw", "-o", "json")) as Kubeconfig;
        expect(view.clusters[0]?.cluster.server).toBe("https://dev.team-a.vcluster.local:443");
        // kubectl fills in fields it defaults (e.g. exec.env), so only what we wrote is compared.
        expect(view.users[0]?.user).toMatchObject(built.config.users[0]?.user ?? { missing: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gets kubectl past TLS set-up: its error is a refused connection, not a certificate problem", async () => {
    requireKubectl();
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), "kubeconfig-tls-"));
    try {
      for (const format of ["default", "token"] as const) {
        const file = join(dir, `${format}.yaml`);
        writeFileSync(file, build(format, 0, vcluster({ endpoint: `https://127.0.0.1:${port}` })).yaml);
        const result = spawnSync(KUBECTL, ["--kubeconfig", file, "--request-timeout", "10s", "get", "ns"], {
          encoding: "utf8",
          timeout: 30_000,
        });
        const output = `${result.stdout}${result.stderr}`;
        expect(result.status, output).not.toBe(0);
        expect(output).not.toMatch(/x509|certificate|PEM|tls:/i);
        expect(output).toMatch(/connection refused|was refused/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A loopback port nothing listens on: bound, read back, released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
