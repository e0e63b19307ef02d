import { createHash, createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The server's root secret, from which page-token and kubeconfig signing keys are derived.
 * Given explicitly it is used as is; with a SQLite store it lives in `<db>.secret` (mode 0600)
 * so tokens stay valid across restarts; a memory store gets a random one, which is fine
 * because its data (and so every token's meaning) is gone after a restart anyway.
 */
export function resolveRootSecret(options: { secret?: string; storeSpec?: string }): Uint8Array {
  if (options.secret) return createHash("sha256").update(options.secret).digest();
  const spec = options.storeSpec ?? "";
  const path = spec.startsWith("sqlite:") ? spec.slice("sqlite:".length) : "";
  if (path === "" || path === ":memory:") return randomBytes(32);
  const file = `${path}.secret`;
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32);
  // "wx" fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, `${secret.toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
    chmodSync(file, 0o600);
    return secret;
  } catch {
    return Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
  }
}

export function deriveKey(root: Uint8Array, purpose: string): Uint8Array {
  return createHmac("sha256", root).update(`open-vcluster:${purpose}`).digest();
}
