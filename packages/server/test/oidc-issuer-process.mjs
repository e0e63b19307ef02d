// A real OpenID provider (the certified oidc-provider) as a process of its own, for the Go
// and Python SDKs' tests: one machine client with the client-credentials grant, whose JWT
// access tokens live --ttl seconds (default 3600) and carry the groups given by --groups.
// Prints "issuer listening on <url>" once ready, and exits when its stdin closes, so it never
// outlives the test that started it.
//
//   node oidc-issuer-process.mjs --ttl 4 --client ci --secret s3cret --audience vcluster-api --groups platform-admins
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import Provider from "oidc-provider";

const { values } = parseArgs({
  options: {
    ttl: { type: "string", default: "3600" },
    client: { type: "string", default: "ci" },
    secret: { type: "string", default: "machine-client-secret-0123456789" },
    audience: { type: "string", default: "vcluster-api" },
    resource: { type: "string", default: "urn:open-vcluster:api" },
    groups: { type: "string", multiple: true, default: [] },
  },
});
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`--ttl: expected whole seconds, got ${values.ttl}`);

const http = createServer();
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${http.address().port}`;
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "key-1", alg: "ES256", use: "sig" };
const provider = new Provider(url, {
  jwks: { keys: [signingKey] },
  clients: [
    {
      client_id: values.client,
      client_secret: values.secret,
      grant_types: ["client_credentials"],
      id_token_signed_response_alg: "ES256",
      redirect_uris: [],
      response_types: [],
    },
  ],
  scopes: ["vclusters"],
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => values.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "vclusters",
        audience: values.audience,
        accessTokenTTL: ttl,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
  extraTokenClaims: () => ({ groups: values.groups }),
});
http.on("request", provider.callback());
console.log(`issuer listening on ${url}`);

process.stdin.resume();
process.stdin.on("end", () => {
  http.closeAllConnections();
  http.close(() => process.exit(0));
});
