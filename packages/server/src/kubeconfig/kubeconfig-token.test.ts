import { describe, expect, it } from "vitest";
import { issueKubeconfigToken, verifyKubeconfigToken } from "./kubeconfig-token.js";

const KEY = new TextEncoder().encode("key-one");
const OTHER_KEY = new TextEncoder().encode("key-two");
const ISSUED = new Date("2030-01-01T00:00:00Z");
const EXPIRES = new Date("2030-01-02T00:00:00Z");

function issue(): string {
  return issueKubeconfigToken(
    { vclusterId: "id-1", name: "dev", namespace: "default", issuedAt: ISSUED, expiresAt: EXPIRES },
    KEY,
  );
}

function flipCharacter(text: string, index: number): string {
  const char = text[index] === "A" ? "B" : "A";
  return `${text.slice(0, index)}${char}${text.slice(index + 1)}`;
}

describe("kubeconfig tokens", () => {
  it("verify until their expiry instant", () => {
    const token = issue();
    expect(verifyKubeconfigToken(token, KEY, ISSUED)).toMatchObject({ valid: true, claims: { vclusterId: "id-1" } });
    expect(verifyKubeconfigToken(token, KEY, new Date(EXPIRES.getTime() - 1000))).toMatchObject({ valid: true });
    expect(verifyKubeconfigToken(token, KEY, EXPIRES)).toEqual({ valid: false, reason: "expired" });
  });

  it("differ on every issue", () => {
    expect(issue()).not.toBe(issue());
  });

  it("detect tampering with the payload", () => {
    const token = issue();
    const forged = flipCharacter(token, 10);
    expect(verifyKubeconfigToken(forged, KEY, ISSUED)).toEqual({ valid: false, reason: "bad-signature" });
  });

  it("detect a payload re-signed with another key", () => {
    const token = issueKubeconfigToken(
      {
        vclusterId: "id-1",
        name: "dev",
        namespace: "default",
        issuedAt: ISSUED,
        expiresAt: new Date("2099-01-01T00:00:00Z"),
      },
      OTHER_KEY,
    );
    expect(verifyKubeconfigToken(token, KEY, ISSUED)).toEqual({ valid: false, reason: "bad-signature" });
  });

  it("detect tampering with the signature", () => {
    const token = issue();
    expect(verifyKubeconfigToken(flipCharacter(token, token.length - 5), KEY, ISSUED)).toEqual({
      valid: false,
      reason: "bad-signature",
    });
    expect(verifyKubeconfigToken(`${token}AA`, KEY, ISSUED)).toEqual({ valid: false, reason: "bad-signature" });
  });

  it.each(["", "vct_", "abc.def", "vct_abc", "Bearer vct_a.b"])("reject malformed %j", (token) => {
    expect(verifyKubeconfigToken(token, KEY, ISSUED)).toMatchObject({ valid: false });
    expect(verifyKubeconfigToken(token, KEY, ISSUED)).not.toMatchObject({ reason: "expired" });
  });
});
