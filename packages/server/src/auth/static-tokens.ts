import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type Authenticator, bearerToken } from "./authenticator.js";
import type { Principal } from "./principal.js";
import { type TokenVerdict, type TokenVerifier, UNRECOGNISED } from "./token-verifier.js";

export interface StaticToken {
  token: string;
  subject: string;
  projects?: string[];
  admin?: boolean;
}

interface HashedEntry {
  digest: Buffer;
  principal: Principal;
}

const digest = (token: string) => createHash("sha256").update(token).digest();

/**
 * Bearer tokens from a file. Tokens are compared as SHA-256 digests in constant time, so
 * neither their length nor a matching prefix shows in response timing.
 */
export class StaticTokenAuthenticator implements Authenticator, TokenVerifier {
  readonly name = "static";
  private readonly entries: HashedEntry[];

  constructor(tokens: StaticToken[]) {
    this.entries = tokens.map((t) => ({
      digest: digest(t.token),
      principal: Object.freeze({ subject: t.subject, projects: [...(t.projects ?? [])], admin: t.admin === true }),
    }));
  }

  authenticate(headers: Headers): Principal | undefined {
    const token = bearerToken(headers);
    return token ? this.find(token) : undefined;
  }

  async verify(token: string): Promise<TokenVerdict> {
    const principal = this.find(token);
    return principal ? { kind: "accepted", principal } : UNRECOGNISED;
  }

  private find(token: string): Principal | undefined {
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
    }
    return found;
  }
}

/** Parses `tokens: [{token, subject, projects, admin}]` from YAML or JSON (JSON is valid YAML). */
export function parseTokensFile(text: string, source = "tokens file"): StaticToken[] {
  const doc = parse(text) as unknown;
  const list = (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new Error(`${source}: expected a top-level "tokens" list`);
  return list.map((raw, i) => {
    const entry = raw as Record<string, unknown>;
    const where = `${source}: tokens[${i}]`;
    if (typeof entry.token !== "string" || entry.token.length < 8) {
      throw new Error(`${where}.token: must be a string of at least 8 characters`);
    }
    if (typeof entry.subject !== "string" || entry.subject === "") {
      throw new Error(`${where}.subject: must be a non-empty string`);
    }
    const projects = entry.projects ?? [];
    if (!Array.isArray(projects) || projects.some((p) => typeof p !== "string")) {
      throw new Error(`${where}.projects: must be a list of strings`);
    }
    if (entry.admin !== undefined && typeof entry.admin !== "boolean") {
      throw new Error(`${where}.admin: must be a boolean`);
    }
    return { token: entry.token, subject: entry.subject, projects: projects as string[], admin: entry.admin === true };
  });
}

export function loadTokensFile(path: string): StaticTokenAuthenticator {
  return new StaticTokenAuthenticator(parseTokensFile(readFileSync(path, "utf8"), path));
}
