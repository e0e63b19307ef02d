import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ProviderPreconditionError } from "../types.js";
import { rewriteKubeconfig } from "./kubeconfig.js";

const SECRET = `apiVersion: v1
kind: Config
clusters:
- name: my-vcluster
  cluster:
    server: https://localhost:8443
    certificate-authority-data: Q0E=
users:
- name: my-vcluster
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: my-vcluster
  context: { cluster: my-vcluster, user: my-vcluster }
current-context: my-vcluster
`;

describe("rewriteKubeconfig", () => {
  it("keeps the secret's credentials and CA, and points the server at the endpoint", () => {
    const out = parse(
      rewriteKubeconfig(SECRET, { name: "vcluster_a_ns", server: "https://a.ns.svc:443", format: "default" }),
    );
    expect(out.clusters).toEqual([
      { name: "vcluster_a_ns", cluster: { server: "https://a.ns.svc:443", "certificate-authority-data": "Q0E=" } },
    ]);
    expect(out.users[0].user).toEqual({ "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" });
    expect(out["current-context"]).toBe("vcluster_a_ns");
  });

  it("gives a token kubeconfig only when the secret has a token", () => {
    const withToken = parse(
      rewriteKubeconfig(SECRET, { name: "n", server: "https://x", format: "token", token: "t0k" }),
    );
    expect(withToken.users[0].user).toEqual({ token: "t0k" });
    expect(() => rewriteKubeconfig(SECRET, { name: "n", server: "https://x", format: "token" })).toThrow(
      ProviderPreconditionError,
    );
    expect(() => rewriteKubeconfig(SECRET, { name: "n", server: "https://x", format: "exec" })).toThrow(
      /credential plugin/,
    );
  });
});
