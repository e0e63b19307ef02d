import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { VClusterService } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../time/manual-clock.js";
import { createBearerAuthInterceptor } from "./auth-interceptor.js";
import { cachedToken, clientCredentialsToken, jwtExpiry } from "./token-source.js";

const jwt = (claims: object) =>
  ["e30", btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"), "sig"].join(".");

describe("cachedToken", () => {
  it("reuses a token until shortly before it expires, then fetches a new one", async () => {
    const clock = new ManualClock(1_000_000);
    let fetched = 0;
    const token = cachedToken(async () => ({ token: `t${++fetched}`, expiresAt: clock.now() + 120_000 }), {
      clock,
      refreshBeforeMs: 30_000,
    });
    expect(await token()).toBe("t1");
    await clock.advance(89_999);
    expect(await token()).toBe("t1");
    await clock.advance(1);
    expect(await token()).toBe("t2");
    token.invalidate("t1"); // a stale refusal leaves the newer token cached
    expect(await token()).toBe("t2");
  });

  it("reads the expiry of a JWT when the source does not say", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const exp = 1_700_000_000 + 300;
    expect(jwtExpiry(jwt({ exp }))).toBe(exp * 1000);
    expect(jwtExpiry("opaque-token")).toBeUndefined();
    let fetched = 0;
    const token = cachedToken(async () => jwt({ exp, n: ++fetched }), { clock, refreshBeforeMs: 60_000 });
    const first = await token();
    await clock.advance(239_999);
    expect(await token()).toBe(first);
    await clock.advance(1);
    expect(await token()).not.toBe(first);
  });

  it("shares one fetch between concurrent callers and does not cache failures", async () => {
    let calls = 0;
    let fail = true;
    const token = cachedToken(async () => {
      calls += 1;
      await Promise.resolve();
      if (fail) throw new Error("issuer down");
      return "ok-token";
    });
    await expect(Promise.all([token(), token(), token()])).rejects.toThrow("issuer down");
    expect(calls).toBe(1);
    fail = false;
    expect(await Promise.all([token(), token()])).toEqual(["ok-token", "ok-token"]);
    expect(calls).toBe(2);
  });

  it("fetches anew after invalidate, sharing a fetch already in flight", async () => {
    let n = 0;
    const token = cachedToken(async () => `t${++n}`);
    expect(await token()).toBe("t1");
    token.invalidate();
    const pending = token();
    token.invalidate();
    expect(await Promise.all([pending, token()])).toEqual(["t2", "t2"]);
    expect(await token()).toBe("t2");
    token.invalidate("t1"); // a stale refusal leaves the newer token cached
    expect(await token()).toBe("t2");
  });
});

describe("bearer auth interceptor", () => {
  it("retries a refused unary call once with a fresh token, and only once", async () => {
    const seen: string[] = [];
    let valid = "t2";
    let n = 0;
    const source = cachedToken(async () => `t${++n}`);
    const transport = createRouterTransport(
      ({ service }) =>
        service(VClusterService, {
          getVCluster(_req, ctx) {
            const header = ctx.requestHeader.get("authorization") ?? "";
            seen.push(header);
            if (header !== `Bearer ${valid}`)
              throw new ConnectError("missing or invalid bearer token", Code.Unauthenticated);
            return { vcluster: { name: "dev" } };
          },
        }),
      { transport: { interceptors: [createBearerAuthInterceptor(source)] } },
    );
    const client = createClient(VClusterService, transport);
    expect((await client.getVCluster({ name: "dev" })).vcluster?.name).toBe("dev");
    expect(seen).toEqual(["Bearer t1", "Bearer t2"]);
    valid = "never";
    const refused = await client.getVCluster({ name: "dev" }).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    expect(seen).toEqual(["Bearer t1", "Bearer t2", "Bearer t2", "Bearer t3"]);
  });
});

describe("clientCredentialsToken", () => {
  it("discovers the token endpoint, sends the client credentials and caches by expires_in", async () => {
    const clock = new ManualClock(5_000_000);
    const requests: { url: string; body: string; auth: string | null }[] = [];
    const fakeIssuer: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.endsWith("/.well-known/openid-configuration")) {
        return Response.json({ issuer: "https://idp.test", token_endpoint: "https://idp.test/oauth/token" });
      }
      requests.push({ url, body: String(init?.body), auth: new Headers(init?.headers).get("authorization") });
      return Response.json({ access_token: `at-${requests.length}`, expires_in: 3600, token_type: "Bearer" });
    };
    const token = clientCredentialsToken({
      issuer: "https://idp.test",
      clientId: "ci",
      clientSecret: "s3cret",
      scope: "vclusters",
      resource: "urn:api",
      fetch: fakeIssuer,
      clock,
    });
    expect(await token()).toBe("at-1");
    expect(await token()).toBe("at-1");
    expect(requests).toEqual([
      {
        url: "https://idp.test/oauth/token",
        body: "grant_type=client_credentials&scope=vclusters&resource=urn%3Aapi",
        auth: `Basic ${btoa("ci:s3cret")}`,
      },
    ]);
    await clock.advance(3_540_000);
    expect(await token()).toBe("at-2");
  });

  it("says what the token endpoint answered when it refuses", async () => {
    const token = clientCredentialsToken({
      tokenUrl: "https://idp.test/token",
      clientId: "ci",
      clientSecret: "wrong",
      fetch: async () => Response.json({ error: "invalid_client", error_description: "bad secret" }, { status: 401 }),
    });
    await expect(token()).rejects.toThrow("token endpoint answered HTTP 401 (invalid_client: bad secret)");
  });
});
