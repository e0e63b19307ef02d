import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { cachedToken, clientInterceptors } from "@open-vcluster/core";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/index.js";
import { clientsFor, expectError, transportFor } from "../support.js";
import { CLUSTER_SETUP_TIMEOUT_MS, type KubeCluster, startKubeCluster } from "./cluster.js";

// Service-account tokens checked by a real kube-apiserver through TokenReview, and RBAC through
// SubjectAccessReview, with the server calling the cluster as an identity that holds only the
// documented ClusterRole.
let cluster: KubeCluster;
let server: RunningServer;

const RBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: vcluster-api-auth }
rules:
  - apiGroups: [authentication.k8s.io]
    resources: [tokenreviews]
    verbs: [create]
  - apiGroups: [authorization.k8s.io]
    resources: [subjectaccessreviews]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: vcluster-api-auth }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vcluster-api-auth }
subjects: [{ kind: User, name: vcluster-api, apiGroup: rbac.authorization.k8s.io }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: vcluster-api-user }
rules:
  - apiGroups: [open-vcluster.io]
    resources: [vclusters]
    verbs: [use]
---
apiVersion: v1
kind: Namespace
metadata: { name: apps }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: deployer, namespace: apps }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: viewer, namespace: apps }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: vcluster-api-user-deployer }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vcluster-api-user }
subjects: [{ kind: ServiceAccount, name: deployer, namespace: apps }]
`;

beforeAll(async () => {
  cluster = await startKubeCluster();
  const manifest = join(cluster.dir, "auth-rbac.yaml");
  await writeFile(manifest, RBAC);
  await cluster.kubectl("apply", "-f", manifest);
  const kubeconfig = await cluster.writeKubeconfig(join(cluster.dir, "server.kubeconfig"), cluster.restrictedToken);
  // Started here, not with testServer (closed after each test): both tests share it.
  server = await startServer({
    port: 0,
    timeScale: 0,
    logger: false,
    auth: {
      authenticators: [
        {
          tokenReview: {
            kubeconfig,
            audiences: ["vcluster-api"],
            requireAccess: { verb: "use", resource: "vclusters", group: "open-vcluster.io" },
            claims: { adminGroups: ["system:serviceaccounts:apps"] },
            cacheTtlMs: 0,
          },
        },
      ],
    },
  });
}, CLUSTER_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
}, 60_000);

const token = async (account: string, audience = "vcluster-api") =>
  (await cluster.kubectl("create", "token", account, "-n", "apps", "--audience", audience)).trim();

describe("Kubernetes service-account tokens (TokenReview)", () => {
  it("accepts a token from `kubectl create token` as the service account it names", async () => {
    const file = join(cluster.dir, "projected-token");
    await writeFile(file, await token("deployer"));
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      // As a pod reads its projected token (what the Node client's serviceAccountToken does).
      interceptors: clientInterceptors({
        baseUrl: server.url,
        token: cachedToken(async () => (await readFile(file, "utf8")).trim()),
      }),
    });
    const { vc } = clientsFor(transport);
    const created = await vc.createVCluster({ name: "from-pod" });
    expect(created.vcluster?.owner).toBe("system:serviceaccount:apps:deployer");
    expect((await vc.listVClusters({})).totalCount).toBe(1);
  });

  it("denies an authenticated account that RBAC does not allow, and refuses wrong-audience, foreign and revoked tokens", async () => {
    const anonymous = await expectError(() => clientsFor(transportFor(server, "connect", "2")).vc.listVClusters({}));
    expect(anonymous.error.code).toBe(Code.Unauthenticated);

    const denied = await expectError(async () =>
      clientsFor(transportFor(server, "connect", "2", await token("viewer"))).vc.listVClusters({}),
    );
    expect(denied.error.code).toBe(Code.PermissionDenied);

    const otherAudience = await expectError(async () =>
      clientsFor(transportFor(server, "connect", "2", await token("deployer", "another-api"))).vc.listVClusters({}),
    );
    expect(otherAudience.error.code).toBe(Code.Unauthenticated);

    const { privateKey } = await generateKeyPair("RS256");
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ sub: "system:serviceaccount:apps:deployer", aud: ["vcluster-api"] })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer("https://kubernetes.default.svc")
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const forged = await expectError(() =>
      clientsFor(transportFor(server, "connect", "2", foreign)).vc.listVClusters({}),
    );
    expect(forged.error.code).toBe(Code.Unauthenticated);

    const revoked = await token("deployer");
    expect((await clientsFor(transportFor(server, "connect", "2", revoked)).vc.listVClusters({})).totalCount).toBe(1);
    await cluster.kubectl("delete", "serviceaccount", "deployer", "-n", "apps", "--wait=true");
    // The API server sees the deletion through its informer cache: wait for that state.
    const client = clientsFor(transportFor(server, "connect", "2", revoked));
    const deadline = Date.now() + 240_000;
    let code: Code | undefined;
    while (code !== Code.Unauthenticated && Date.now() < deadline) {
      code = await client.vc.listVClusters({}).then(
        () => undefined,
        (e: unknown) => (e as { code?: Code }).code,
      );
      if (code === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toBe(Code.Unauthenticated);
  }, 300_000);
});
