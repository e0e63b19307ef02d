import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJsonString } from "@bufbuild/protobuf";
import { GetVClusterKubeconfigResponseSchema, GetVClusterResponseSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RunningServer } from "../src/index.js";
import { clientsFor, createRunning, testServer, transportFor } from "./support.js";

interface Kubeconfig {
  clusters: { cluster: { "certificate-authority-data": string } }[];
  users: { user: Record<string, string> }[];
}

const pem = (base64: string | undefined) => Buffer.from(base64 ?? "", "base64").toString("utf8");

async function kubeconfigOf(server: RunningServer, name: string) {
  const c = clientsFor(transportFor(server, "connect"));
  const response = await c.vc.getVClusterKubeconfig({ name });
  const config = parse(pem(response.kubeconfig)) as Kubeconfig;
  return {
    response,
    ca: new X509Certificate(pem(config.clusters[0]?.cluster["certificate-authority-data"])),
    client: new X509Certificate(pem(config.users[0]?.user["client-certificate-data"])),
    key: createPrivateKey(pem(config.users[0]?.user["client-key-data"])),
  };
}

describe("kubeconfig certificates", () => {
  it("are real X.509 from one per-server CA, which survives a restart on a durable store", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "vc-ca-")), "vc.db");
    const first = await testServer({ store: `sqlite:${db}` });
    const c = clientsFor(transportFor(first, "grpc"));
    const dev = await createRunning(first, c, "dev");
    await createRunning(first, c, "other");
    const a = await kubeconfigOf(first, "dev");
    const b = await kubeconfigOf(first, "other");
    // One authority per server, a client certificate per vcluster, each chaining to the CA.
    expect(b.ca.fingerprint256).toBe(a.ca.fingerprint256);
    expect(a.client.checkIssued(a.ca) && a.client.verify(a.ca.publicKey)).toBe(true);
    expect(b.client.checkIssued(b.ca) && b.client.verify(b.ca.publicKey)).toBe(true);
    expect(a.client.subjectAltName).toBe(`URI:urn:open-vcluster:vcluster:${dev.id}`);
    expect(b.client.fingerprint256).not.toBe(a.client.fingerprint256);
    expect(a.client.checkPrivateKey(a.key)).toBe(true);
    // The only private key handed out is the client's own, never the CA's.
    expect(a.ca.checkPrivateKey(a.key)).toBe(false);
    await first.close();

    const second = await testServer({ store: `sqlite:${db}` });
    const again = await kubeconfigOf(second, "dev");
    expect(again.ca.subject).toBe(a.ca.subject);
    expect(again.ca.publicKey.export({ type: "spki", format: "der" })).toEqual(
      a.ca.publicKey.export({ type: "spki", format: "der" }),
    );
    // A certificate issued before the restart still chains to the restarted server's CA.
    expect(a.client.verify(again.ca.publicKey)).toBe(true);

    // A server with another root secret is another authority.
    const stranger = await testServer();
    await createRunning(stranger, clientsFor(transportFor(stranger, "connect")), "dev");
    expect((await kubeconfigOf(stranger, "dev")).ca.fingerprint256).not.toBe(a.ca.fingerprint256);
  });

  it("say in status that the endpoint is simulated, and no response carries a CA private key", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "sim");
    const got = await c.vc.getVCluster({ name: "sim", includeKubeconfig: true });
    const condition = got.vcluster?.status?.conditions.find((x) => x.type === "EndpointSimulated");
    expect(condition?.status).toBe("True");
    expect(condition?.reason).toBe("SimulatedProvider");
    expect(condition?.message).toContain(got.vcluster?.status?.apiServerEndpoint);
    const kubeconfig = await c.vc.getVClusterKubeconfig({ name: "sim", format: "token" });
    expect(toJsonString(GetVClusterResponseSchema, got)).not.toMatch(/PRIVATE KEY/);
    expect(toJsonString(GetVClusterKubeconfigResponseSchema, kubeconfig)).not.toMatch(/PRIVATE KEY/);
    // Every PEM block the kubeconfigs carry: the CA's certificate, and in the default format the
    // client's certificate and its key (which is not the CA's).
    const blocks = (base64: string | undefined) => {
      const config = parse(pem(base64)) as Kubeconfig;
      const data = [config.clusters[0]?.cluster ?? {}, config.users[0]?.user ?? {}].flatMap((entry) =>
        Object.entries(entry).filter(([field]) => field.endsWith("-data")),
      );
      return data.map(([field, value]) => `${field}: ${/-----BEGIN ([A-Z ]+)-----/.exec(pem(String(value)))?.[1]}`);
    };
    expect(blocks(got.vcluster?.status?.kubeconfig).sort()).toEqual([
      "certificate-authority-data: CERTIFICATE",
      "client-certificate-data: CERTIFICATE",
      "client-key-data: PRIVATE KEY",
    ]);
    expect(blocks(kubeconfig.kubeconfig)).toEqual(["certificate-authority-data: CERTIFICATE"]);
  });
});
