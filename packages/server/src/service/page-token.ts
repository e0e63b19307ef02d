import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { invalidField } from "../errors.js";

/**
 * Page tokens are opaque to clients but carry the keyset cursor of the last item served and a
 * hash of the query that issued them, signed with HMAC-SHA256:
 *   base64url(JSON payload) "." base64url(HMAC(key, payload))
 * A tampered token or one replayed with different filters is rejected with INVALID_ARGUMENT
 * (reason INVALID_PAGE_TOKEN). The key survives restarts (see server secrets), so tokens do too.
 */
interface TokenPayload<C> {
  v: 1;
  q: string;
  c: C;
}

/** Canonical hash of everything that defines a query (filters, order, caller), not the page size. */
export function queryHash(query: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(query)).digest("base64url").slice(0, 22);
}

export function encodePageToken<C>(key: Uint8Array, query: string, cursor: C): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, q: query, c: cursor } satisfies TokenPayload<C>)).toString(
    "base64url",
  );
  const mac = createHmac("sha256", key).update(payload).digest("base64url");
  return `${payload}.${mac}`;
}

export function decodePageToken<C>(key: Uint8Array, token: string, query: string, field = "page_token"): C {
  const bad = (why: string) => invalidField(field, why, "INVALID_PAGE_TOKEN");
  const [payload, mac, ...rest] = token.split(".");
  if (!payload || !mac || rest.length > 0) throw bad("malformed page token");
  const expected = createHmac("sha256", key).update(payload).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw bad("page token is invalid or was not issued by this server");
  }
  let decoded: TokenPayload<C>;
  try {
    decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenPayload<C>;
  } catch {
    throw bad("malformed page token");
  }
  if (decoded.v !== 1) throw bad("unsupported page token version");
  if (decoded.q !== query) throw bad("page token was issued for a different query; keep every other field unchanged");
  return decoded.c;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** AIP-158: 0 → default, above the maximum → the maximum (negative is rejected by validation). */
export function effectivePageSize(requested: number): number {
  if (requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export { canonicalJson };
