import { Writable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerOptions } from "../src/index.js";
import { API_AUDIENCE, signingKey, TestIssuer } from "./oidc-issuer.js";
import { clientsFor, expectError, type Protocol, testServer, transportFor } from "./support.js";
import { expectTenancy } from "./tenancy-scenario.js";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(() => issuer.close());

/** Collects the server's log lines so tests can see which authenticator decided. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

function oidcServer(extra: Partial<ServerOptions> = {}, url = issuer.url) {
  return testServer({
    auth: {
      authenticators: [
        {
          oidc: {
            issuer: url,
            audiences: [API_AUDIENCE],
            claims: { projectPrefix: "vcluster:", adminGroups: ["platform-admins"] },
            jwksRefreshCooldownMs: 0,
          },
        },
      ],
    },
    ...extra,
  });
}

const callerOf = (server: Awaited<ReturnType<typeof oidcServer>>, token: string, protocol: Protocol = "connect") =>
  clientsFor(transportFor(server, protocol, "2", token));

describe("OIDC bearer tokens", () => {
  it("accepts client-credentials tokens on every protocol and maps groups to projects and admin", async () => {
    const server = await oidcServer();
    const root = await issuer.clientCredentialsToken("ci-root");
    for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
      expect((await callerOf(server, root, protocol).vc.listVClusters({})).totalCount).toBe(0);
    }
    await expectTenancy(
      server,
      {
        root,
        alice: await issuer.clientCredentialsToken("ci-alice"),
        bob: await issuer.clientCredentialsToken("ci-bob"),
        eve: await issuer.clientCredentialsToken("ci-eve"),
      },
      "ci-alice",
    );
  });

  it("refuses expired, not-yet-valid, wrong-audience, wrong-issuer, unknown-key, tampered and unsigned tokens alike", async () => {
    const { logger, lines } = capturedLogger();
    const server = await oidcServer({ logger });
    const now = Math.floor(Date.now() / 1000);
    const stranger = await signingKey("key-1"); // same key id, different key
    const valid = await issuer.forge({ sub: "ci-root", groups: ["platform-admins"] });
    const [header, payload, signature] = valid.split(".");
    const tampered = [
      header,
      Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), sub: "x" }),
      ).toString("base64url"),
      signature,
    ].join(".");
    const unsigned = [Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url"), payload, ""].join(".");
    const refused: Record<string, string> = {
      expired: await issuer.forge({ exp: now - 3600 }),
      "not yet valid": await issuer.forge({ nbf: now + 3600 }),
      "wrong audience": await issuer.forge({ aud: "another-api" }),
      "wrong issuer": await issuer.forge({ iss: "https://elsewhere.example" }),
      "unknown key": await issuer.forge({}, await signingKey("key-unknown")),
      "forged with another key": await issuer.forge({}, stranger),
      tampered,
      unsigned,
      "no expiry": await issuer.forge({ exp: undefined }),
    };
    expect((await callerOf(server, valid).vc.listVClusters({})).totalCount).toBe(0);
    for (const [what, token] of Object.entries(refused)) {
      const { error } = await expectError(() => callerOf(server, token).vc.listVClusters({}));
      expect(error.code, what).toBe(Code.Unauthenticated);
      // The caller learns nothing about which check failed.
      expect(error.rawMessage, what).toBe("missing or invalid bearer token");
    }
    const refusals = lines.filter((l) => String(l.msg).startsWith("bearer token refused"));
    expect(refusals).toHaveLength(Object.keys(refused).length);
    expect(refusals.filter((l) => l.authenticator === `oidc ${issuer.url}`).length).toBeGreaterThanOrEqual(7);
    expect(refusals.map((l) => String(l.reason)).join("\n")).toMatch(/ERR_JWT_EXPIRED/);
  });

  it("tolerates a small clock skew on exp and nbf", async () => {
    const server = await oidcServer();
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [{ exp: now - 5 }, { nbf: now + 5 }]) {
      const token = await issuer.forge({ sub: "ci-root", groups: ["platform-admins"], ...claims });
      expect((await callerOf(server, token).vc.listVClusters({})).totalCount).toBe(0);
    }
  });

  it("follows key rotation: a new key is picked up and a removed key stops working", async () => {
    const server = await oidcServer();
    const before = await issuer.clientCredentialsToken("ci-root");
    expect((await callerOf(server, before).vc.listVClusters({})).totalCount).toBe(0);
    await issuer.rotate("key-2");
    const after = await issuer.clientCredentialsToken("ci-root");
    expect((await callerOf(server, after).vc.listVClusters({})).totalCount).toBe(0);
    const { error } = await expectError(() => callerOf(server, before).vc.listVClusters({}));
    expect(error.code).toBe(Code.Unauthenticated);
  });

  it("answers UNAVAILABLE, not UNAUTHENTICATED, while the issuer cannot be reached", async () => {
    const down = await TestIssuer.start();
    const token = await down.forge({ sub: "ci-root" });
    await down.close();
    const { logger, lines } = capturedLogger();
    const server = await oidcServer({ logger }, down.url);
    const { error } = await expectError(() => callerOf(server, token).vc.listVClusters({}));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).not.toContain("127.0.0.1");
    expect(lines.some((l) => l.msg === "authenticator cannot decide")).toBe(true);
  });

  it("tries authenticators in order: static tokens and OIDC side by side", async () => {
    const server = await testServer({
      auth: {
        authenticators: [
          { oidc: { issuer: issuer.url, audiences: [API_AUDIENCE], claims: { adminGroups: ["platform-admins"] } } },
        ],
      },
      authTokensFile: await staticTokens(),
    });
    expect((await callerOf(server, "static-admin-token").vc.listVClusters({})).totalCount).toBe(0);
    const oidc = await issuer.clientCredentialsToken("ci-root");
    expect((await callerOf(server, oidc).vc.listVClusters({})).totalCount).toBe(0);
  });
});

async function staticTokens(): Promise<string> {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const file = join(mkdtempSync(join(tmpdir(), "vc-auth-")), "tokens.yaml");
  writeFileSync(file, "tokens:\n  - { token: static-admin-token, subject: root, admin: true }\n");
  return file;
}
