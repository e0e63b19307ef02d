import { describe, expect, it } from "vitest";
import { parseCliOptions } from "../cli-options.js";
import { parseAuthConfig } from "./auth-config.js";
import { claimsToPrincipal } from "./claims.js";

describe("auth config", () => {
  it("parses every authenticator kind, resolving files against the config's folder", () => {
    const config = parseAuthConfig(
      `authenticators:
  - static: { tokensFile: tokens.yaml }
  - oidc:
      issuer: https://dex.example.com
      audiences: [vcluster-api]
      clockSkewSeconds: 10
      claims: { groups: realm_access.roles, projectPrefix: "project:", adminGroups: [admins] }
  - tokenReview:
      audiences: [vcluster-api]
      requireAccess: { verb: use, resource: vclusters, group: open-vcluster.io }
      cacheTtlSeconds: 5
`,
      "auth.yaml",
      "/etc/vcluster-api",
    );
    expect(config.authenticators).toEqual([
      { static: { tokensFile: "/etc/vcluster-api/tokens.yaml" } },
      {
        oidc: {
          issuer: "https://dex.example.com",
          audiences: ["vcluster-api"],
          clockSkewSeconds: 10,
          claims: { groups: "realm_access.roles", projectPrefix: "project:", adminGroups: ["admins"] },
        },
      },
      {
        tokenReview: {
          audiences: ["vcluster-api"],
          requireAccess: { verb: "use", resource: "vclusters", group: "open-vcluster.io" },
          cacheTtlMs: 5000,
        },
      },
    ]);
  });

  it.each([
    ["authenticators: []", /authenticators: must be a non-empty list/],
    ["authenticators: [{ ldap: {} }]", /authenticators\[0\]: unknown keys ldap/],
    ["authenticators: [{ oidc: { audiences: [a] } }]", /authenticators\[0\]\.oidc\.issuer: is required/],
    ["authenticators: [{ oidc: { issuer: 'http://idp.example.com', audiences: [a] } }]", /must use https/],
    [
      "authenticators: [{ oidc: { issuer: 'https://i', audiences: [a], algorithms: [HS256] } }]",
      /HS256 are not allowed/,
    ],
    ["authenticators: [{ oidc: { issuer: 'https://i', audiences: [a], algorithms: [none] } }]", /none are not allowed/],
    ["authenticators: [{ oidc: { issuer: 'https://i', audiences: [a], claim: {} } }]", /unknown keys claim/],
    ["authenticators: [{ tokenReview: { cacheTtlSeconds: -1 } }]", /cacheTtlSeconds: must be a non-negative number/],
    ["authenticators: [{ tokenReview: { requireAccess: { verb: get } } }]", /requireAccess\.resource: is required/],
  ])("refuses %s", (text, message) => {
    expect(() => parseAuthConfig(text)).toThrow(message);
  });

  it("takes one issuer from the --oidc-* flags, and refuses half a configuration", () => {
    const options = parseCliOptions(
      ["--oidc-issuer", "https://idp.example.com", "--oidc-audience", "api", "--oidc-admin-group", "ops"],
      {},
    );
    expect(options !== "help" && options.auth).toEqual({
      authenticators: [
        { oidc: { issuer: "https://idp.example.com", audiences: ["api"], claims: { adminGroups: ["ops"] } } },
      ],
    });
    expect(() => parseCliOptions(["--oidc-issuer", "https://idp.example.com"], {})).toThrow(/--oidc-audience/);
    expect(() => parseCliOptions(["--oidc-audience", "api"], {})).toThrow(/need --oidc-issuer/);
  });
});

describe("claims to principal", () => {
  it("reads nested claims, keeps only prefixed groups as projects, and prefixes subjects", () => {
    const principal = claimsToPrincipal(
      { email: "ann@example.com", realm_access: { roles: ["project:blue", "project:red", "admins", "other"] } },
      {
        subject: "email",
        subjectPrefix: "oidc:",
        groups: "realm_access.roles",
        projectPrefix: "project:",
        adminGroups: ["admins"],
      },
    );
    expect(principal).toEqual({ subject: "oidc:ann@example.com", projects: ["blue", "red"], admin: true });
    expect(claimsToPrincipal({ sub: 7 }, {})).toMatch(/claim "sub" is missing/);
  });
});
