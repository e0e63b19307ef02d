import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildKubeconfig, type KubeconfigFormat } from "./build-kubeconfig.js";
import { verifyKubeconfigToken } from "./kubeconfig-token.js";

const KEY = new TextEncoder().encode("test-signing-key-0123456789abcdef");
const NOW = new Date("2030-01-02T03:04:05Z");
const HOUR = 3600_000;
const ENTRY = "vcluster_dev_team-a";

function vcluster(overrides: Partial<{ endpoint: string }> = {}): VCluster {
  return create(VClusterSchema, {
    id: "0b6f0c1e-8f1a-4c1b-9d4e-2a3b4c5d6e7f",
    name: "dev",
    namespace: "team-a",
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
  const built = buildKubeconfig({ vcluster: target, format, now: NOW, validityHours, signingKey: KEY });
  return { ...built, config: parse(built.yaml) as Kubeconfig };
}

function decodePem(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

/** kubectl is part of the supported development machine; a missing one fails loudly rather than skipping. */
const KUBECTL = process.env.KUBECTL ?? "kubectl";

function requireKubectl(): void {
  try {
    execFileSync(KUBECTL, ["version", "--client"], { stdio: "ignore", timeout: 10_000 });
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

  it("keeps the same CA for a vcluster across calls", () => {
    const first = build("default").config.clusters[0]?.cluster["certificate-authority-data"];
    const second = build("token").config.clusters[0]?.cluster["certificate-authority-data"];
    expect(first).toBe(second);
  });

  it("default: embeds a client certificate and key valid for a year", () => {
    const { config, expiresAt } = build("default");
    const user = config.users[0]?.user as Record<string, string>;
    expect(Object.keys(user).sort()).toEqual(["client-certificate-data", "client-key-data"]);
    expect(decodePem(user["client-certificate-data"] ?? "")).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(decodePem(user["client-key-data"] ?? "")).toMatch(
      /^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+-----END EC PRIVATE KEY-----\n$/,
    );
    expect(expiresAt?.getTime()).toBe(NOW.getTime() + 365 * 24 * HOUR);
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
          execFileSync(KUBECTL, [...args, "--kubeconfig", file], { encoding: "utf8", timeout: 10_000 });
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
});
