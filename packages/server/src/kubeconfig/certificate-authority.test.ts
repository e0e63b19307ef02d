import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CertificateAuthority } from "./certificate-authority.js";

const seed = (text: string) => new TextEncoder().encode(text.padEnd(32, "0"));

describe("CertificateAuthority", () => {
  it("is a real self-signed CA certificate, derived from the seed alone", () => {
    const first = new X509Certificate(new CertificateAuthority(seed("root-a")).certificatePem);
    const again = new X509Certificate(new CertificateAuthority(seed("root-a")).certificatePem);
    const other = new X509Certificate(new CertificateAuthority(seed("root-b")).certificatePem);
    expect(first.ca).toBe(true);
    expect(first.verify(first.publicKey)).toBe(true);
    expect(first.subject).toMatch(/^O=open-vcluster\nCN=open-vcluster kubeconfig CA [0-9a-f]{12}$/);
    // A restarted server with the same root secret is the same authority.
    expect(again.subject).toBe(first.subject);
    expect(again.serialNumber).toBe(first.serialNumber);
    expect(again.publicKey.export({ type: "spki", format: "der" })).toEqual(
      first.publicKey.export({ type: "spki", format: "der" }),
    );
    expect(other.subject).not.toBe(first.subject);
    // Certificates it issued before the restart chain to the restarted authority.
    const issued = new CertificateAuthority(seed("root-a")).issueClientCertificate({
      commonName: "bob",
      organizations: [],
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 3600_000),
    });
    const client = new X509Certificate(issued.certificatePem);
    expect(client.checkIssued(again)).toBe(true);
    expect(client.verify(again.publicKey)).toBe(true);
    expect(client.verify(other.publicKey)).toBe(false);
  });

  it("never exposes its private key: the CA certificate is the only PEM it hands out", () => {
    const authority = new CertificateAuthority(seed("root-c"));
    expect(authority.certificatePem).not.toMatch(/PRIVATE KEY/);
    expect(Object.values(authority).filter((v) => typeof v === "string")).toEqual([authority.certificatePem]);
  });
});
