import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import type { Logger } from "../logger.js";
import { AuthenticatorChain } from "./chain.js";
import type { ClaimMapping } from "./claims.js";
import { checkOidcOptions, type OidcOptions, OidcVerifier } from "./oidc.js";
import { parseTokensFile, StaticTokenAuthenticator } from "./static-tokens.js";
import type { AccessCheck, TokenReviewOptions } from "./token-review.js";
import type { TokenVerifier } from "./token-verifier.js";

/** One entry of the `authenticators` list, tried in the order given. */
export type AuthenticatorConfig =
  | { static: { tokensFile: string } }
  | { oidc: OidcOptions }
  | { tokenReview: TokenReviewOptions };

export interface AuthConfig {
  authenticators: AuthenticatorConfig[];
}

type Fields = Record<string, unknown>;

class ConfigReader {
  constructor(
    private readonly source: string,
    private readonly base: string,
  ) {}

  fail(where: string, message: string): never {
    throw new Error(`${this.source}: ${where}: ${message}`);
  }

  object(value: unknown, where: string, allowed: readonly string[]): Fields {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(where, "must be a mapping");
    const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) this.fail(where, `unknown keys ${unknown.join(", ")} (known: ${allowed.join(", ")})`);
    return value as Fields;
  }

  string(fields: Fields, key: string, where: string): string | undefined {
    const value = fields[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value === "") this.fail(`${where}.${key}`, "must be a non-empty string");
    return value;
  }

  required(fields: Fields, key: string, where: string): string {
    return this.string(fields, key, where) ?? this.fail(`${where}.${key}`, "is required");
  }

  strings(fields: Fields, key: string, where: string): string[] | undefined {
    const value = fields[key];
    if (value === undefined) return undefined;
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
      this.fail(`${where}.${key}`, "must be a list of non-empty strings");
    }
    return value as string[];
  }

  number(fields: Fields, key: string, where: string): number | undefined {
    const value = fields[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      this.fail(`${where}.${key}`, "must be a non-negative number");
    }
    return value;
  }

  path(fields: Fields, key: string, where: string): string | undefined {
    const value = this.string(fields, key, where);
    return value === undefined ? undefined : resolve(this.base, value);
  }

  claims(value: unknown, where: string, allowed: readonly string[]): ClaimMapping | undefined {
    if (value === undefined) return undefined;
    const fields = this.object(value, where, allowed);
    const mapping: ClaimMapping = {};
    for (const key of ["subject", "subjectPrefix", "groups", "projectPrefix"] as const) {
      const text = key === "subjectPrefix" || key === "projectPrefix" ? fields[key] : this.string(fields, key, where);
      if (text !== undefined) {
        if (typeof text !== "string") this.fail(`${where}.${key}`, "must be a string");
        mapping[key] = text;
      }
    }
    const admins = this.strings(fields, "adminGroups", where);
    if (admins) mapping.adminGroups = admins;
    return mapping;
  }

  access(value: unknown, where: string): AccessCheck | undefined {
    if (value === undefined) return undefined;
    const fields = this.object(value, where, ["verb", "resource", "group"]);
    const group = this.string(fields, "group", where);
    return {
      verb: this.required(fields, "verb", where),
      resource: this.required(fields, "resource", where),
      ...(group ? { group } : {}),
    };
  }
}

const OIDC_KEYS = [
  "issuer",
  "audiences",
  "jwksUri",
  "algorithms",
  "clockSkewSeconds",
  "claims",
  "jwksCacheMaxAgeSeconds",
  "jwksRefreshCooldownSeconds",
] as const;
const TOKEN_REVIEW_KEYS = [
  "kubeconfig",
  "context",
  "audiences",
  "issuers",
  "claims",
  "requireAccess",
  "adminAccess",
  "cacheTtlSeconds",
] as const;

/**
 * Parses the auth config (YAML or JSON). Every mistake is reported with its path, so a
 * server never starts with an authenticator that is not what its operator wrote.
 */
export function parseAuthConfig(text: string, source = "auth config", base = process.cwd()): AuthConfig {
  const read = new ConfigReader(source, base);
  const root = read.object(parse(text) ?? {}, "top level", ["authenticators"]);
  const list: unknown[] = Array.isArray(root.authenticators) ? root.authenticators : [];
  if (list.length === 0) read.fail("authenticators", "must be a non-empty list");
  const authenticators = list.map((entry, i): AuthenticatorConfig => {
    const where = `authenticators[${i}]`;
    const fields = read.object(entry, where, ["static", "oidc", "tokenReview"]);
    const kinds = Object.keys(fields);
    if (kinds.length !== 1) read.fail(where, "must have exactly one of static, oidc, tokenReview");
    if (fields.static !== undefined) {
      const s = read.object(fields.static, `${where}.static`, ["tokensFile"]);
      return {
        static: {
          tokensFile:
            read.path(s, "tokensFile", `${where}.static`) ?? read.fail(`${where}.static.tokensFile`, "is required"),
        },
      };
    }
    if (fields.oidc !== undefined) {
      const w = `${where}.oidc`;
      const o = read.object(fields.oidc, w, OIDC_KEYS);
      const options: OidcOptions = {
        issuer: read.required(o, "issuer", w),
        audiences: read.strings(o, "audiences", w) ?? read.fail(`${w}.audiences`, "is required"),
      };
      const jwksUri = read.string(o, "jwksUri", w);
      if (jwksUri) options.jwksUri = jwksUri;
      const algorithms = read.strings(o, "algorithms", w);
      if (algorithms) options.algorithms = algorithms;
      const skew = read.number(o, "clockSkewSeconds", w);
      if (skew !== undefined) options.clockSkewSeconds = skew;
      const claims = read.claims(o.claims, `${w}.claims`, [
        "subject",
        "subjectPrefix",
        "groups",
        "projectPrefix",
        "adminGroups",
      ]);
      if (claims) options.claims = claims;
      const maxAge = read.number(o, "jwksCacheMaxAgeSeconds", w);
      if (maxAge !== undefined) options.jwksCacheMaxAgeMs = maxAge * 1000;
      const cooldown = read.number(o, "jwksRefreshCooldownSeconds", w);
      if (cooldown !== undefined) options.jwksRefreshCooldownMs = cooldown * 1000;
      try {
        checkOidcOptions(options);
      } catch (error) {
        read.fail(w, (error as Error).message);
      }
      return { oidc: options };
    }
    const w = `${where}.tokenReview`;
    const t = read.object(fields.tokenReview, w, TOKEN_REVIEW_KEYS);
    const options: TokenReviewOptions = {};
    const kubeconfig = read.path(t, "kubeconfig", w);
    if (kubeconfig) options.kubeconfig = kubeconfig;
    const context = read.string(t, "context", w);
    if (context) options.context = context;
    const audiences = read.strings(t, "audiences", w);
    if (audiences) options.audiences = audiences;
    const issuers = read.strings(t, "issuers", w);
    if (issuers) options.issuers = issuers;
    const claims = read.claims(t.claims, `${w}.claims`, ["subjectPrefix", "projectPrefix", "adminGroups"]);
    if (claims) options.claims = claims;
    const requireAccess = read.access(t.requireAccess, `${w}.requireAccess`);
    if (requireAccess) options.requireAccess = requireAccess;
    const adminAccess = read.access(t.adminAccess, `${w}.adminAccess`);
    if (adminAccess) options.adminAccess = adminAccess;
    const ttl = read.number(t, "cacheTtlSeconds", w);
    if (ttl !== undefined) options.cacheTtlMs = ttl * 1000;
    return { tokenReview: options };
  });
  return { authenticators };
}

export function loadAuthConfig(path: string): AuthConfig {
  return parseAuthConfig(readFileSync(path, "utf8"), path, dirname(resolve(path)));
}

/** Builds the verifier chain an auth config describes. */
export function buildAuthenticator(config: AuthConfig, logger: Logger, now?: () => Date): AuthenticatorChain {
  const verifiers: TokenVerifier[] = [];
  for (const entry of config.authenticators) {
    if ("static" in entry) {
      const file = entry.static.tokensFile;
      verifiers.push(new StaticTokenAuthenticator(parseTokensFile(readFileSync(file, "utf8"), file)));
    } else if ("oidc" in entry) {
      verifiers.push(new OidcVerifier({ ...(now ? { now } : {}), ...entry.oidc }));
    } else {
      verifiers.push(lazyTokenReview({ ...(now ? { now } : {}), ...entry.tokenReview }));
    }
  }
  return new AuthenticatorChain(verifiers, logger);
}

/** The Kubernetes client is large and most servers never need it: load it on the first token. */
function lazyTokenReview(options: TokenReviewOptions): TokenVerifier {
  let verifier: Promise<TokenVerifier> | undefined;
  return {
    name: "tokenreview",
    async verify(token) {
      verifier ??= import("./token-review.js").then((m) => new m.TokenReviewVerifier(options));
      return (await verifier).verify(token);
    },
  };
}
