import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import Provider from "oidc-provider";

/** The API's audience: the resource the issuer mints access tokens for. */
export const API_AUDIENCE = "vcluster-api";
export const API_RESOURCE = "urn:open-vcluster:api";

export interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const base = { kid, alg: "ES256", use: "sig" };
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), ...base },
    privateJwk: { ...(await exportJWK(privateKey)), ...base },
  };
}

/** Machine clients of the issuer (client-credentials grant), with the groups their tokens carry. */
export const MACHINE_CLIENTS: Record<string, string[]> = {
  "ci-root": ["platform-admins"],
  "ci-alice": ["vcluster:blue"],
  "ci-bob": ["vcluster:blue", "unrelated"],
  "ci-eve": ["vcluster:red"],
};
export const MACHINE_SECRET = "machine-client-secret-0123456789";
/** The public client people sign in with on the command line (device authorization grant). */
export const CLI_CLIENT = "vcluster-cli";
/** People who can sign in, with their groups. */
export const PEOPLE: Record<string, string[]> = { alice: ["vcluster:blue"], ops: ["platform-admins"] };

/**
 * A real OpenID provider (the certified `oidc-provider`) on 127.0.0.1 with a port of its own.
 * `rotate()` replaces its signing keys behind the same issuer URL, as an identity provider's
 * key rotation does.
 */
export class TestIssuer {
  private constructor(
    readonly url: string,
    private readonly http: Server,
    private provider: Provider,
    public keys: SigningKey[],
  ) {}

  static async start(): Promise<TestIssuer> {
    let handle: ReturnType<Provider["callback"]> | undefined;
    const http = createServer((req, res) => {
      if (handle) handle(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const keys = [await signingKey("key-1")];
    const issuer = new TestIssuer(url, http, TestIssuer.provider(url, keys), keys);
    handle = (req, res) => issuer.provider.callback()(req, res);
    return issuer;
  }

  private static provider(url: string, keys: SigningKey[]): Provider {
    const provider = new Provider(url, {
      clients: Object.keys(MACHINE_CLIENTS)
        .map((client_id) => ({
          client_id,
          client_secret: MACHINE_SECRET,
          grant_types: ["client_credentials"],
          id_token_signed_response_alg: "ES256" as const,
          redirect_uris: [],
          response_types: [],
        }))
        .concat([
          {
            client_id: CLI_CLIENT,
            grant_types: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            token_endpoint_auth_method: "none",
            id_token_signed_response_alg: "ES256",
            redirect_uris: [],
            response_types: [],
          } as never,
        ]),
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({ sub: id, groups: PEOPLE[id] ?? [] }),
      }),
      claims: { openid: ["sub"], groups: ["groups"] },
      conformIdTokenClaims: false,
      scopes: ["openid", "offline_access", "groups", "vclusters"],
      jwks: { keys: keys.map((k) => k.privateJwk) },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: "vclusters",
            audience: API_AUDIENCE,
            accessTokenTTL: 3600,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "ES256" } },
          }),
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const clientId = (token as { clientId?: string }).clientId ?? "";
        return { groups: MACHINE_CLIENTS[clientId] ?? [] };
      },
    });
    provider.proxy = false;
    return provider;
  }

  /** An access token from the client-credentials grant, as automation would get one. */
  async clientCredentialsToken(clientId: string): Promise<string> {
    const response = await fetch(`${this.url}/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${clientId}:${MACHINE_SECRET}`).toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "vclusters", resource: API_RESOURCE }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) {
      throw new Error(`token endpoint: ${response.status} ${body.error ?? ""} ${body.error_description ?? ""}`);
    }
    return body.access_token;
  }

  /**
   * Plays the person at the browser in a device authorization flow: opens the verification
   * link, confirms the code, signs in as `login` and consents, as the issuer's pages ask.
   */
  async approveDevice(verificationUri: string, login: string): Promise<void> {
    const cookies = new Map<string, string>();
    let url = verificationUri;
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 20; step++) {
      const response = await fetch(url, {
        method: body ? "POST" : "GET",
        redirect: "manual",
        headers: {
          cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
          ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
        ...(body ? { body } : {}),
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(";");
        const [name, ...value] = (pair ?? "").split("=");
        if (name) cookies.set(name.trim(), value.join("="));
      }
      const location = response.headers.get("location");
      if (location) {
        url = new URL(location, url).toString();
        body = undefined;
        continue;
      }
      const html = await response.text();
      if (html.includes("Sign-in Success")) return;
      const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
      if (!form) throw new Error(`device flow: no form at ${url}: ${html.slice(0, 300)}`);
      body = new URLSearchParams();
      for (const input of (form[2] ?? "").matchAll(/<input[^>]*name="([^"]+)"[^>]*>/gi)) {
        const name = input[1] as string;
        const value = /value="([^"]*)"/.exec(input[0])?.[1];
        if (name === "login") body.set(name, login);
        else if (name === "password") body.set(name, "any-password");
        else if (value !== undefined) body.set(name, value);
      }
      url = new URL((form[1] as string).replace(/&amp;/g, "&"), url).toString();
    }
    throw new Error("device flow: too many steps");
  }

  /** A token signed with the issuer's own key but with claims of the test's choosing. */
  async forge(claims: JWTPayload, key: SigningKey = this.keys[0] as SigningKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.url, aud: API_AUDIENCE, sub: "forged", iat: now, exp: now + 600, ...claims })
      .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "at+jwt" })
      .sign(key.privateKey);
  }

  /** Replaces the signing keys; the old ones disappear from the published key set. */
  async rotate(kid: string): Promise<SigningKey> {
    const next = await signingKey(kid);
    this.keys = [next];
    this.provider = TestIssuer.provider(this.url, this.keys);
    return next;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }
}
