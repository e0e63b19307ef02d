import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

const TOKEN_PREFIX = "vct_";

export interface KubeconfigTokenClaims {
  vclusterId: string;
  name: string;
  namespace: string;
  issuedAt: Date;
  expiresAt: Date;
}

export type KubeconfigTokenVerification =
  | { valid: true; claims: KubeconfigTokenClaims }
  | { valid: false; reason: "malformed" | "bad-signature" | "expired" };

/** Wire form of the claims: short keys, times in whole seconds since the epoch. */
interface TokenPayload {
  vid: string;
  name: string;
  ns: string;
  iat: number;
  exp: number;
  jti: string;
}

function sign(signedPart: string, key: Uint8Array): Buffer {
  return createHmac("sha256", key).update(signedPart).digest();
}

/** `vct_<base64url(payload)>.<base64url(hmac-sha256(key, "vct_<payload>"))>` */
export function issueKubeconfigToken(
  claims: { vclusterId: string; name: string; namespace: string; issuedAt: Date; expiresAt: Date },
  key: Uint8Array,
): string {
  const payload: TokenPayload = {
    vid: claims.vclusterId,
    name: claims.name,
    ns: claims.namespace,
    iat: Math.floor(claims.issuedAt.getTime() / 1000),
    exp: Math.floor(claims.expiresAt.getTime() / 1000),
    jti: randomUUID(),
  };
  const signedPart = `${TOKEN_PREFIX}${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return `${signedPart}.${sign(signedPart, key).toString("base64url")}`;
}

function decodePayload(encoded: string): TokenPayload | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) return undefined;
    const payload = value as Partial<TokenPayload>;
    const strings = [payload.vid, payload.name, payload.ns, payload.jti].every((field) => typeof field === "string");
    const numbers = [payload.iat, payload.exp].every((field) => Number.isSafeInteger(field));
    return strings && numbers ? (payload as TokenPayload) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a token's signature (in constant time) and expiry; a token is no longer valid at its expiry instant. */
export function verifyKubeconfigToken(token: string, key: Uint8Array, now: Date): KubeconfigTokenVerification {
  const dot = token.lastIndexOf(".");
  if (!token.startsWith(TOKEN_PREFIX) || dot < 0) return { valid: false, reason: "malformed" };
  const signedPart = token.slice(0, dot);
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  const expected = sign(signedPart, key);
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    return { valid: false, reason: "bad-signature" };
  }
  const payload = decodePayload(signedPart.slice(TOKEN_PREFIX.length));
  if (!payload) return { valid: false, reason: "malformed" };
  if (now.getTime() >= payload.exp * 1000) return { valid: false, reason: "expired" };
  return {
    valid: true,
    claims: {
      vclusterId: payload.vid,
      name: payload.name,
      namespace: payload.ns,
      issuedAt: new Date(payload.iat * 1000),
      expiresAt: new Date(payload.exp * 1000),
    },
  };
}
