import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Phase, type VCluster } from "@open-vcluster/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningServer, startServer } from "../../src/index.js";
import { type Clients, clientsFor, expectError } from "../support.js";
import { CLUSTER_SETUP_TIMEOUT_MS, helmEnv, type KubeCluster, startKubeCluster } from "./cluster.js";
import { writeTestChart } from "./test-chart.js";

// Every RPC through the server against a real kube-apiserver + etcd, with controller-manager,
// scheduler and KWOK running the pods, and a real helm. The official vcluster chart cannot be
// downloaded here: a local test chart of the same shape stands in for it (test/kube/chart).

const ETCD = "controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: true\n";
const OP_TIMEOUT = 240_000;

let cluster: KubeCluster;
beforeAll(async () => {
  cluster = await startKubeCluster({ persistentVolumes: 4 });
}, CLUSTER_SETUP_TIMEOUT_MS);
afterAll(() => cluster?.stop(), 120_000);

// The harness itself: the real control plane, fake nodes that run pods, helm.
describe("test cluster", () => {
  it("reports the pinned version", async () => {
    const version = JSON.parse(await cluster.kubectl("version", "-o", "json"));
    expect(version.serverVersion.gitVersion).toBe("v1.37.2");
    expect(version.serverVersion.minor).toBe("37");
  });

  it("runs a StatefulSet with volumes to Ready pods on the fake nodes", async () => {
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
        volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: data }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
`;
    const file = join(cluster.dir, "web.yaml");
    await writeFile(file, manifest);
    await cluster.kubectl("apply", "-f", file);
    await cluster.kubectl("rollout", "status", "statefulset/web", "-n", "default", "--timeout=180s");
    const sts = JSON.parse(await cluster.kubectl("get", "statefulset", "web", "-n", "default", "-o", "json"));
    expect(sts.status.readyReplicas).toBe(2);
    const pods = JSON.parse(await cluster.kubectl("get", "pods", "-n", "default", "-l", "app=web", "-o", "json"));
    expect(pods.items.map((p: { spec: { nodeName: string } }) => p.spec.nodeName)).toEqual([
      "kwok-node-0",
      "kwok-node-0",
    ]);
    // No provisioner runs: the claims bind to the pre-created volumes.
    const claims = JSON.parse(await cluster.kubectl("get", "pvc", "-n", "default", "-o", "json"));
    expect(claims.items.map((c: { status: { phase: string } }) => c.status.phase)).toEqual(["Bound", "Bound"]);
    await cluster.kubectl("delete", "statefulset", "web", "-n", "default", "--wait=true");
  }, 240_000);

  it("keeps Helm's state in the cluster", async () => {
    const out = await cluster.helm("list", "-A", "-o", "json");
    expect(JSON.parse(out)).toEqual([]);
  });
});

describe("kubernetes provider on a real API server (local test chart shaped like the vcluster chart)", () => {
  let server: RunningServer;
  let c: Clients;

  beforeAll(async () => {
    // The server runs with exactly the permissions of the ClusterRole we ship.
    await cluster.kubectl("apply", "-f", resolve(import.meta.dirname, "../../../../docs/kubernetes/clusterrole.yaml"));
    await cluster.kubectl(
      "create",
      "clusterrolebinding",
      "vcluster-api-server",
      "--clusterrole=vcluster-api-server",
      "--user=vcluster-api",
    );
    const kubeconfig = await cluster.writeKubeconfig(join(cluster.dir, "server.kubeconfig"), cluster.restrictedToken);
    const chart = await writeTestChart(cluster);
    server = await startServer({
      port: 0,
      store: "memory",
      logger: false,
      kubernetes: {
        connection: { kubeconfig, context: "test" },
        chart: { repo: chart, name: "vcluster", version: "" },
        helm: cluster.tools.bin("helm"),
        helmEnv: helmEnv(cluster.dir),
        readyTimeoutSeconds: 180,
        resyncIntervalMs: 2000,
      },
    });
    c = clientsFor(createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
  }, CLUSTER_SETUP_TIMEOUT_MS);

  afterAll(() => server?.close(), 60_000);

  const json = async (...args: string[]) => JSON.parse(await cluster.kubectl(...args, "-o", "json"));
  const helmJson = async (...args: string[]) => JSON.parse(await cluster.helm(...args, "-o", "json"));

  /** Watches the vcluster until `predicate` holds (event-driven, with a generous ceiling). */
  async function waitFor(name: string, namespace: string, predicate: (v: VCluster) => boolean): Promise<VCluster> {
    const signal = AbortSignal.timeout(OP_TIMEOUT);
    let last: VCluster | undefined;
    try {
      for await (const event of c.vc.watchVCluster({ name, namespace }, { signal })) {
        if (event.vcluster?.status) {
          last = event.vcluster;
          if (predicate(event.vcluster)) return event.vcluster;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    throw new Error(
      `vcluster ${namespace}/${name} never matched; last status: ${JSON.stringify(last?.status?.message)}`,
    );
  }

  it(
    "creates the namespace and the Helm release, and is RUNNING only once the pods are Ready",
    async () => {
      // Pods of this release cannot be scheduled until a node carries pool=alpha.
      const values = `${ETCD}  statefulSet:\n    scheduling:\n      nodeSelector:\n        pool: alpha\n`;
      const created = await c.vc.createVCluster({
        name: "alpha",
        namespace: "team-a",
        spec: {
          kubernetesVersion: "1.33.4",
          replicas: 1,
          resources: { cpuRequest: "250m", memoryRequest: "300Mi" },
          helmValues: values,
        },
      });
      expect(created.vcluster?.status?.phase).toBe(Phase.CREATING);
      // The release is installed and its pod exists, but it is Pending: still CREATING.
      await expect
        .poll(
          async () => (await json("get", "pods", "-n", "team-a", "-l", "app=vcluster,release=alpha")).items.length,
          {
            timeout: OP_TIMEOUT,
          },
        )
        .toBe(1);
      const pending = await json("get", "pods", "-n", "team-a", "-l", "app=vcluster,release=alpha");
      expect(pending.items[0].status.phase).toBe("Pending");
      expect((await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster?.status?.phase).toBe(
        Phase.CREATING,
      );

      await cluster.kubectl("label", "node", "kwok-node-0", "pool=alpha");
      await server.api.idle();
      const running = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
      expect(running?.status?.phase, running?.status?.message).toBe(Phase.RUNNING);
      expect(running?.status?.readyReplicas).toBe(1);
      expect(running?.status?.apiServerEndpoint).toBe("https://alpha.team-a.svc:443");
      // Chart and app version and the revision come from Helm.
      expect(running?.status?.helmRelease).toMatchObject({
        name: "alpha",
        chartVersion: "0.1.0-test",
        appVersion: "0.1.0-test",
        revision: 1,
        status: "deployed",
      });

      const sts = await json("get", "statefulset", "alpha", "-n", "team-a");
      expect(sts.status.readyReplicas).toBe(1);
      const ns = await json("get", "namespace", "team-a");
      expect(ns.metadata.labels["vcluster.open-vcluster.io/managed-by"]).toBe("vcluster-api-server");
      const releases = await helmJson("list", "-n", "team-a");
      expect(releases.map((r: { name: string; status: string }) => [r.name, r.status])).toEqual([
        ["alpha", "deployed"],
      ]);
      // Values rendered from the spec, with the user's helm_values merged on top.
      const rendered = await helmJson("get", "values", "alpha", "-n", "team-a");
      expect(rendered.controlPlane.distro.k8s.version).toBe("v1.33.4");
      expect(rendered.controlPlane.statefulSet.resources.requests).toMatchObject({ cpu: "250m", memory: "300Mi" });
      expect(rendered.controlPlane.statefulSet.highAvailability.replicas).toBe(1);
      expect(rendered.controlPlane.backingStore.etcd.embedded.enabled).toBe(true);
      expect(rendered.controlPlane.statefulSet.scheduling.nodeSelector).toEqual({ pool: "alpha" });
      // Usage without a metrics API: the pods' requests, and status says so.
      expect(running?.status?.currentUsage?.cpuUsage).toBe("250m");
    },
    OP_TIMEOUT,
  );

  it("serves the kubeconfig from the vc-<name> secret, rewritten for the endpoint", async () => {
    const issued = await c.vc.getVClusterKubeconfig({ name: "alpha", namespace: "team-a" });
    expect(issued.apiServerEndpoint).toBe("https://alpha.team-a.svc:443");
    const doc = parse(Buffer.from(issued.kubeconfig, "base64").toString("utf8"));
    expect(doc["current-context"]).toBe("vcluster_alpha_team-a");
    expect(doc.clusters[0].cluster.server).toBe("https://alpha.team-a.svc:443");
    expect(doc.users[0].user.token).toBe(cluster.adminToken);
    // The credentials are the secret's own and they work: pointed at the API server the test
    // chart's kubeconfig stands for, kubectl gets through.
    doc.clusters[0].cluster.server = cluster.server;
    const file = join(cluster.dir, "alpha.kubeconfig");
    await writeFile(file, JSON.stringify(doc));
    const { stdout } = await import("node:util").then(({ promisify }) =>
      import("node:child_process").then(({ execFile }) =>
        promisify(execFile)(cluster.tools.bin("kubectl"), [
          "--kubeconfig",
          file,
          "get",
          "namespace",
          "team-a",
          "-o",
          "name",
        ]),
      ),
    );
    expect(stdout.trim()).toBe("namespace/team-a");

    const token = await c.vc.getVClusterKubeconfig({ name: "alpha", namespace: "team-a", format: "token" });
    expect(parse(Buffer.from(token.kubeconfig, "base64").toString("utf8")).users[0].user).toEqual({
      token: cluster.adminToken,
    });
    const exec = await expectError(() =>
      c.vc.getVClusterKubeconfig({ name: "alpha", namespace: "team-a", format: "exec" }),
    );
    expect(exec.error.code).toBe(Code.FailedPrecondition);
    expect(exec.error.rawMessage).toMatch(/credential plugin/);
  });

  it("refuses snapshots the chart cannot take with FAILED_PRECONDITION, changing nothing", async () => {
    // The observer's first pass records where usage comes from (a write of its own): once it
    // has, the version compared below moves only if a refusal changed something.
    const before = await waitFor("alpha", "team-a", (v) =>
      (v.status?.conditions ?? []).some((condition) => condition.type === "UsageFromMetrics"),
    );
    const refused = await expectError(() => c.vc.snapshotVCluster({ name: "alpha", namespace: "team-a" }));
    expect(refused.error.code).toBe(Code.FailedPrecondition);
    expect(refused.error.rawMessage).toMatch(
      /vcluster 0\.1\.0-test .* cannot take snapshot requests: vcluster 0\.29\.0 or newer/,
    );
    const withSuspend = await expectError(() =>
      c.vc.suspendVCluster({ name: "alpha", namespace: "team-a", createSnapshot: true }),
    );
    expect(withSuspend.error.code).toBe(Code.FailedPrecondition);
    expect((await c.snap.listSnapshots({ namespace: "team-a" })).snapshots).toEqual([]);
    const after = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
    expect(after?.annotations["vcluster.open-vcluster.io/resource-version"]).toBe(
      before?.annotations["vcluster.open-vcluster.io/resource-version"],
    );
    expect((await json("get", "statefulset", "alpha", "-n", "team-a")).spec.replicas).toBe(1);
  });

  it(
    "scales and updates through helm upgrade, tracking the revision",
    async () => {
      await c.vc.scaleVCluster({ name: "alpha", namespace: "team-a", replicas: 3 });
      await server.api.idle();
      const scaled = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
      expect(scaled?.status?.phase, scaled?.status?.message).toBe(Phase.RUNNING);
      expect(scaled?.status?.readyReplicas).toBe(3);
      expect(scaled?.status?.helmRelease?.revision).toBe(2);
      expect((await json("get", "statefulset", "alpha", "-n", "team-a")).status.readyReplicas).toBe(3);
      expect(
        (await helmJson("get", "values", "alpha", "-n", "team-a")).controlPlane.statefulSet.highAvailability.replicas,
      ).toBe(3);

      await c.vc.updateVCluster({
        name: "alpha",
        namespace: "team-a",
        spec: { kubernetesVersion: "1.34.1" },
        updateMask: { paths: ["spec.kubernetes_version"] },
      });
      await server.api.idle();
      const updated = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
      expect(updated?.status?.phase, updated?.status?.message).toBe(Phase.RUNNING);
      expect(updated?.status?.helmRelease?.revision).toBe(3);
      const history = await helmJson("history", "alpha", "-n", "team-a");
      expect(history.map((h: { revision: number }) => h.revision)).toEqual([1, 2, 3]);
      expect((await helmJson("get", "values", "alpha", "-n", "team-a")).controlPlane.distro.k8s.version).toBe(
        "v1.34.1",
      );
    },
    OP_TIMEOUT,
  );

  it(
    "suspends and resumes the way vcluster pauses: annotations, zero replicas, workload pods removed",
    async () => {
      // A pod the vcluster synced to the host.
      await writeFile(
        join(cluster.dir, "workload.yaml"),
        `apiVersion: v1
kind: Pod
metadata:
  name: web-x-default-x-alpha
  namespace: team-a
  labels:
    vcluster.loft.sh/managed-by: alpha
spec:
  containers:
  - name: web
    image: registry.invalid/web:1
`,
      );
      await cluster.kubectl("apply", "-f", join(cluster.dir, "workload.yaml"));
      await cluster.kubectl(
        "wait",
        "--for=condition=Ready",
        "pod/web-x-default-x-alpha",
        "-n",
        "team-a",
        "--timeout=120s",
      );

      await c.vc.suspendVCluster({ name: "alpha", namespace: "team-a" });
      await server.api.idle();
      const suspended = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
      expect(suspended?.status?.phase, suspended?.status?.message).toBe(Phase.SUSPENDED);
      const sts = await json("get", "statefulset", "alpha", "-n", "team-a");
      expect(sts.spec.replicas).toBe(0);
      expect(sts.metadata.annotations["loft.sh/paused"]).toBe("true");
      expect(sts.metadata.annotations["loft.sh/paused-replicas"]).toBe("3");
      expect(Number.isNaN(Date.parse(sts.metadata.annotations["loft.sh/paused-date"]))).toBe(false);
      expect((await json("get", "pods", "-n", "team-a")).items).toEqual([]);

      await c.vc.resumeVCluster({ name: "alpha", namespace: "team-a" });
      await server.api.idle();
      const resumed = (await c.vc.getVCluster({ name: "alpha", namespace: "team-a" })).vcluster;
      expect(resumed?.status?.phase, resumed?.status?.message).toBe(Phase.RUNNING);
      expect(resumed?.status?.readyReplicas).toBe(3);
      const back = await json("get", "statefulset", "alpha", "-n", "team-a");
      expect(back.spec.replicas).toBe(3);
      expect(Object.keys(back.metadata.annotations ?? {}).filter((k) => k.startsWith("loft.sh/"))).toEqual([]);
    },
    OP_TIMEOUT,
  );

  it(
    "shows drift: a StatefulSet deleted by hand is ERROR with the reason, a rollback brings it back",
    async () => {
      await cluster.kubectl("delete", "statefulset", "alpha", "-n", "team-a", "--wait=true");
      const broken = await waitFor("alpha", "team-a", (v) => v.status?.phase === Phase.ERROR);
      expect(broken.status?.reason).toBe("StatefulSetMissing");
      expect(broken.status?.message).toMatch(/StatefulSet team-a\/alpha does not exist/);
      expect(broken.status?.conditions.find((x) => x.type === "Ready")?.status).toBe("False");

      // Rolled back outside the server: Helm recreates the StatefulSet as revision 2 had it.
      await cluster.helm("rollback", "alpha", "2", "-n", "team-a");
      const healed = await waitFor(
        "alpha",
        "team-a",
        (v) => v.status?.phase === Phase.RUNNING && v.status.helmRelease?.revision === 4,
      );
      expect(healed.status?.reason).toBe("Running");
      expect(healed.status?.readyReplicas).toBe(3);
    },
    OP_TIMEOUT,
  );

  it(
    "shows a crash-looping control-plane pod as ERROR, and clears it once the pod is healthy again",
    async () => {
      const crash = {
        status: {
          conditions: [{ type: "Ready", status: "False" }],
          containerStatuses: [
            {
              name: "syncer",
              image: "ghcr.io/loft-sh/vcluster-pro:0.1.0-test",
              imageID: "",
              ready: false,
              restartCount: 6,
              state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 2m40s restarting failed container" } },
            },
          ],
        },
      };
      await cluster.kubectl(
        "patch",
        "pod",
        "alpha-1",
        "-n",
        "team-a",
        "--subresource=status",
        "--type=strategic",
        "-p",
        JSON.stringify(crash),
      );
      const broken = await waitFor("alpha", "team-a", (v) => v.status?.reason === "ControlPlaneCrashing");
      expect(broken.status?.phase).toBe(Phase.ERROR);
      expect(broken.status?.message).toMatch(/pod alpha-1: CrashLoopBackOff: container syncer: back-off/);
      // The StatefulSet replaces the deleted pod and KWOK makes the new one Ready.
      await cluster.kubectl("delete", "pod", "alpha-1", "-n", "team-a", "--wait=true");
      const healed = await waitFor(
        "alpha",
        "team-a",
        (v) => v.status?.phase === Phase.RUNNING && v.status.readyReplicas === 3,
      );
      expect(healed.status?.reason).toBe("Running");
    },
    OP_TIMEOUT,
  );

  it(
    "adopts a release installed directly with helm only when asked to",
    async () => {
      const chart = join(cluster.dir, "chart");
      await cluster.helm("install", "legacy", chart, "-n", "legacy-ns", "--create-namespace");
      const refused = await expectError(() => c.vc.createVCluster({ name: "legacy", namespace: "legacy-ns" }));
      expect(refused.error.code).toBe(Code.FailedPrecondition);
      expect(refused.error.rawMessage).toMatch(/already exists .* set label open-vcluster\.io\/adopt=true/);
      expect((await c.vc.listVClusters({ namespace: "legacy-ns" })).vclusters).toEqual([]);

      await c.vc.createVCluster({
        name: "legacy",
        namespace: "legacy-ns",
        labels: { "open-vcluster.io/adopt": "true" },
      });
      await server.api.idle();
      const adopted = (await c.vc.getVCluster({ name: "legacy", namespace: "legacy-ns" })).vcluster;
      expect(adopted?.status?.phase, adopted?.status?.message).toBe(Phase.RUNNING);
      // Adopting leaves the release as it was.
      expect(adopted?.status?.helmRelease?.revision).toBe(1);

      await c.vc.deleteVCluster({ name: "legacy", namespace: "legacy-ns" });
      await server.api.idle();
      expect(await helmJson("list", "-n", "legacy-ns")).toEqual([]);
      // The server did not create that namespace, so it stays.
      expect((await json("get", "namespace", "legacy-ns")).metadata.name).toBe("legacy-ns");
    },
    OP_TIMEOUT,
  );

  it(
    "deletes through helm uninstall and leaves no release, secret or managed namespace behind",
    async () => {
      await c.vc.deleteVCluster({ name: "alpha", namespace: "team-a", gracePeriodSeconds: 5 });
      await server.api.idle();
      const gone = await expectError(() => c.vc.getVCluster({ name: "alpha", namespace: "team-a" }));
      expect(gone.error.code).toBe(Code.NotFound);
      expect(await helmJson("list", "-A")).toEqual([]);
      const left = await cluster.kubectl("get", "namespace", "team-a", "--ignore-not-found", "-o", "name");
      expect(left.trim()).toBe("");
      const secrets = await json("get", "secrets", "-A", "-l", "app=vcluster");
      expect(secrets.items).toEqual([]);
    },
    OP_TIMEOUT,
  );

  it("refuses to install over nothing when adoption is asked for", async () => {
    const refused = await expectError(() =>
      c.vc.createVCluster({ name: "ghost", namespace: "nowhere", labels: { "open-vcluster.io/adopt": "true" } }),
    );
    expect(refused.error.code).toBe(Code.FailedPrecondition);
    expect(refused.error.rawMessage).toMatch(/no such release exists/);
    expect(ConnectError.from(refused.error).code).toBe(Code.FailedPrecondition);
    expect(await cluster.kubectl("get", "namespace", "nowhere", "--ignore-not-found", "-o", "name")).toBe("");
  });
});
