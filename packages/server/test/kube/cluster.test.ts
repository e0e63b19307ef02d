import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_SETUP_TIMEOUT_MS, type KubeCluster, startKubeCluster } from "./cluster.js";

// The harness itself: a real kube-apiserver with etcd, controller-manager, scheduler and KWOK.
describe("test cluster", () => {
  let cluster: KubeCluster;
  beforeAll(async () => {
    cluster = await startKubeCluster();
  }, CLUSTER_SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), 60_000);

  it("reports the pinned version", async () => {
    const version = JSON.parse(await cluster.kubectl("version", "-o", "json"));
    expect(version.serverVersion.gitVersion).toBe("v1.37.2");
    expect(version.serverVersion.minor).toBe("37");
  });

  it("runs a StatefulSet to Ready pods on the fake nodes", async () => {
    const manifest = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  serviceName: web
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
`;
    const file = `${cluster.dir}/web.yaml`;
    await import("node:fs/promises").then((fs) => fs.writeFile(file, manifest));
    await cluster.kubectl("apply", "-f", file);
    await cluster.kubectl("rollout", "status", "statefulset/web", "-n", "default", "--timeout=180s");
    const sts = JSON.parse(await cluster.kubectl("get", "statefulset", "web", "-n", "default", "-o", "json"));
    expect(sts.status.readyReplicas).toBe(2);
    const pods = JSON.parse(await cluster.kubectl("get", "pods", "-n", "default", "-l", "app=web", "-o", "json"));
    expect(pods.items.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).toEqual([
      "kwok-node-0",
      "kwok-node-0",
    ]);
  }, 240_000);

  it("keeps Helm's state in the cluster", async () => {
    const out = await cluster.helm("list", "-A", "-o", "json");
    expect(JSON.parse(out)).toEqual([]);
  });
});
