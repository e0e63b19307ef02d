import { createHmac } from "node:crypto";

/**
 * PEM-shaped blocks for the simulated cluster. Their bodies are keyed hashes, not real DER: the
 * simulated API server does no TLS handshake, but the kubeconfig must look like the real thing to
 * tools that parse it. Derived from the signing key so the same vcluster always shows the same CA.
 */
export function simulatedPem(label: string, key: Uint8Array, seed: string, blocks = 8): string {
  const chunks: Buffer[] = [];
  for (let i = 0; i < blocks; i++) {
    chunks.push(createHmac("sha256", key).update(`${label}\0${seed}\0${i}`).digest());
  }
  const body = Buffer.concat(chunks).toString("base64");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
