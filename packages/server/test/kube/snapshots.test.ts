import { join, resolve } from "node:path";
import { Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Phase, SnapshotStatus } from "@open-vcluster/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningServer, startServer } from "../../src/index.js";
import { type Clients, clientsFor, expectError } from "../support.js";
import { CLUSTER_SETUP_TIMEOUT_MS, helmEnv, type KubeCluster, startKubeCluster } from "./cluster.js";
import { FakeSnapshotController, FINALIZER } from "./snapshot-controller.js";
import { writeTestChart } from "./test-chart.js";

// Snapshot, restore and snapshot deletion through vcluster's own mechanisms, on a real
// kube-apiserver + etcd with controller-manager and KWOK. The local test chart claims
// vcluster 0.31.0 but runs no vcluster (KWOK runs no containers), so the test plays the parts
// of vcluster's control plane: its snapshot controller (FakeSnapshotController, which moves
// the requests' status as vcluster does: completed, failed, held in flight) and its restore
// pod (whose end the test writes into the pod's status). What the server created on the cluster
// is checked against vcluster's format (loft-sh/vcluster pkg/snapshot and pkg/snapshot/pod).

const OP_TIMEOUT = 240_000;
const SNAPSHOT_URL = "container:///data/snapshots";

let cluster: KubeCluster;
let controller: FakeSnapshotController;
let server: RunningServer;
let c: Clients;
let serverOptions: Parameters<typeof startServer>[0];

async function start(): Promise<void> {
  server = await startServer(serverOptions);
  c = clientsFor(createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
}

beforeAll(async () => {
  cluster = await startKubeCluster({ persistentVolumes: 2 });
  controller = new FakeSnapshotController(cluster.kubeconfig);
  await controller.start();
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
  const chart = await writeTestChart(cluster, cluster.adminToken, { appVersion: "0.31.0" });
  serverOptions = {
    port: 0,
    // A file store: the restart test starts a second server on what the first left.
    store: `sqlite:${join(cluster.dir, "api.db")}`,
    logger: false,
    kubernetes: {
      connection: { kubeconfig, context: "test" },
      chart: { repo: chart, name: "vcluster", version: "" },
      helm: cluster.tools.bin("helm"),
      helmEnv: helmEnv(cluster.dir),
      readyTimeoutSeconds: 180,
      resyncIntervalMs: 2000,
      snapshotUrl: SNAPSHOT_URL,
    },
  };
  await start();
}, CLUSTER_SETUP_TIMEOUT_MS);

afterAll(async () => {
  controller?.stop();
  await server?.close();
  await cluster?.stop();
}, 120_000);

const json = async (...args: string[]) => JSON.parse(await cluster.kubectl(...args, "-o", "json"));
const helmJson = async (...args: string[]) => JSON.parse(await cluster.helm(...args, "-o", "json"));
/** Waits for vcluster's restore pod in `namespace` and returns it. */
async function restorePod(namespace: string) {
  await expect
    .poll(async () => (await json("get", "pods", "-n", namespace, "-l", "app=vcluster-snapshot")).items.length, {
      timeout: OP_TIMEOUT,
    })
    .toBe(1);
  return (await json("get", "pods", "-n", namespace, "-l", "app=vcluster-snapshot")).items[0];
}

/** Ends the restore pod as vcluster's restore would: its container exits with `exitCode`. */
async function finishRestorePod(
  pod: { metadata: { name: string; namespace: string }; spec: { containers: { image: string }[] } },
  exitCode: number,
  message?: string,
) {
  await cluster.kubectl(
    "patch",
    "pod",
    pod.metadata.name,
    "-n",
    pod.metadata.namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        phase: exitCode === 0 ? "Succeeded" : "Failed",
        containerStatuses: [
          {
            name: "snapshot",
            image: pod.spec.containers[0]?.image,
            imageID: "",
            ready: false,
            restartCount: 0,
            state: {
              terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error", ...(message ? { message } : {}) },
            },
          },
        ],
      },
    }),
  );
}

const requestsOf = async (namespace: string, snapshotId: string) =>
  (
    await json(
      "get",
      "configmaps",
      "-n",
      namespace,
      "-l",
      `vcluster.loft.sh/snapshot-request,vcluster.open-vcluster.io/snapshot-id=${snapshotId}`,
    )
  ).items as { metadata: { name: string; finalizers?: string[] }; data: { snapshotRequest: string } }[];

describe("snapshots through vcluster snapshot requests (the test plays vcluster's controller)", () => {
  const values = "sync:\n  toHost:\n    ingresses:\n      enabled: true\n";
  let first = "";

  it(
    "creates the vcluster to snapshot",
    async () => {
      await c.vc.createVCluster({
        name: "alpha",
        namespace: "snap-a",
        spec: { replicas: 1, kubernetesVersion: "1.33.4", helmValues: values },
      });
      await server.api.idle();
      const running = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster;
      expect(running?.status?.phase, running?.status?.message).toBe(Phase.RUNNING);
      expect(running?.status?.helmRelease?.appVersion).toBe("0.31.0");
    },
    OP_TIMEOUT,
  );

  it(
    "takes a snapshot as a vcluster snapshot request and completes when vcluster reports Completed",
    async () => {
      const taken = await c.vc.snapshotVCluster({ name: "alpha", namespace: "snap-a", snapshotName: "first" });
      first = taken.snapshot?.id ?? "";
      expect(taken.snapshot?.status).toBe(SnapshotStatus.CREATING);
      await server.api.idle();

      const snapshot = (await c.snap.getSnapshot({ id: first })).snapshot;
      expect(snapshot?.status).toBe(SnapshotStatus.READY);
      const url = `${SNAPSHOT_URL}/snap-a/alpha-${first}.tar.gz`;
      expect(snapshot?.storageUri).toBe(url);

      // The ConfigMap, in vcluster's format: name = the Secret's generated name, its labels,
      // the request JSON under snapshotRequest.
      const [request, ...others] = await requestsOf("snap-a", first);
      expect(others).toEqual([]);
      expect(request?.metadata.name).toMatch(/^alpha-snapshot-request-[a-z0-9]{5}$/);
      const seen = controller.seen.get(`snap-a/${request?.metadata.name}`);
      expect(seen?.configMap.metadata?.labels).toEqual({
        "vcluster.loft.sh/snapshot-request": "",
        "vcluster.loft.sh/vcluster-namespace": "snap-a",
        "vcluster.loft.sh/vcluster-name": "alpha",
        "vcluster.open-vcluster.io/snapshot-id": first,
      });
      const created = JSON.parse(seen?.created ?? "{}");
      expect(Object.keys(created)).toEqual(["metadata", "spec", "status"]);
      expect(created.metadata.name).toBe(request?.metadata.name);
      expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(created.spec).toEqual({ url });
      expect(created.status).toEqual({ error: {} });
      // The Secret of the same name: the options under snapshotOptions, with the Helm release.
      expect(seen?.secretLabels).toEqual(seen?.configMap.metadata?.labels);
      const options = JSON.parse(seen?.options ?? "{}");
      expect(options).toMatchObject({
        type: "container",
        container: { path: `/data/snapshots/snap-a/alpha-${first}.tar.gz` },
        s3: {},
        oci: {},
        release: {
          releaseName: "alpha",
          releaseNamespace: "snap-a",
          chartName: "vcluster",
          chartVersion: "0.1.0-test",
        },
      });
      const recordedValues = parse(Buffer.from(options.release.values, "base64").toString("utf8"));
      expect(recordedValues).toEqual(await helmJson("get", "values", "alpha", "-n", "snap-a"));
      // vcluster's side is done: the status it wrote, the Secret gone, its finalizer dropped.
      expect(JSON.parse(request?.data.snapshotRequest ?? "{}").status).toEqual({ phase: "Completed", error: {} });
      expect(request?.metadata.finalizers ?? []).not.toContain(FINALIZER);
      expect((await json("get", "secrets", "-n", "snap-a", "-l", "vcluster.loft.sh/snapshot-request")).items).toEqual(
        [],
      );

      // The snapshot records the captured values, the release manifest and the request's result.
      const content = JSON.parse(new TextDecoder().decode(await server.api.store.getSnapshotContent(first)));
      const record = content.backingStore.vclusterSnapshot;
      expect(record.url).toBe(url);
      expect(record.request).toMatchObject({ namespace: "snap-a", name: request?.metadata.name, phase: "Completed" });
      expect(record.release.values).toEqual(recordedValues);
      expect(record.release.manifest).toMatch(/kind: StatefulSet/);
      expect(record.release).toMatchObject({ chartName: "vcluster", appVersion: "0.31.0", revision: 1 });

      const after = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster;
      expect(after?.status?.phase).toBe(Phase.RUNNING);
      expect(after?.status?.lastSnapshot?.id).toBe(first);
    },
    OP_TIMEOUT,
  );

  it(
    "fails the snapshot with the reason vcluster reports, and the vcluster keeps running",
    async () => {
      controller.verdict = () => ({ fail: "failed to run snapshot client: open /data/snapshots: permission denied" });
      try {
        const taken = await c.vc.snapshotVCluster({ name: "alpha", namespace: "snap-a", snapshotName: "broken" });
        await server.api.idle();
        const snapshot = (await c.snap.getSnapshot({ id: taken.snapshot?.id ?? "" })).snapshot;
        expect(snapshot?.status).toBe(SnapshotStatus.FAILED);
        const vcluster = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster;
        expect(vcluster?.status?.phase).toBe(Phase.RUNNING);
        expect(vcluster?.status?.reason).toBe("SnapshotFailed");
        expect(vcluster?.status?.message).toMatch(
          /snapshot request snap-a\/alpha-snapshot-request-\w+ ended Failed: failed to run snapshot client: open \/data\/snapshots: permission denied/,
        );
      } finally {
        controller.verdict = () => ({ complete: true });
      }
    },
    OP_TIMEOUT,
  );

  it(
    "resumes observing an in-flight request after a restart instead of creating a second",
    async () => {
      controller.verdict = () => ({ hold: true });
      const taken = await c.vc.snapshotVCluster({ name: "alpha", namespace: "snap-a", snapshotName: "across" });
      const id = taken.snapshot?.id ?? "";
      await controller.until((all) =>
        all.some((r) => r.namespace === "snap-a" && r.options?.includes(id) && r.phase === "CreatingEtcdBackup"),
      );
      await server.close();
      await start();
      const during = (await c.snap.getSnapshot({ id })).snapshot;
      expect(during?.status).toBe(SnapshotStatus.CREATING);

      controller.verdict = () => ({ complete: true });
      const [request] = await requestsOf("snap-a", id);
      await controller.reconcile("snap-a", request?.metadata.name ?? "");
      await expect
        .poll(async () => (await c.snap.getSnapshot({ id })).snapshot?.status, { timeout: OP_TIMEOUT })
        .toBe(SnapshotStatus.READY);
      await server.api.idle();
      expect((await requestsOf("snap-a", id)).map((r) => r.metadata.name)).toEqual([request?.metadata.name]);
      const vcluster = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster;
      expect(vcluster?.status?.phase).toBe(Phase.RUNNING);
    },
    OP_TIMEOUT,
  );

  it("refuses restore_workloads with FAILED_PRECONDITION, creating nothing", async () => {
    const refused = await expectError(() =>
      c.vc.restoreVCluster({
        name: "alpha",
        namespace: "snap-a",
        snapshotId: first,
        createNew: true,
        newName: "beta",
        newNamespace: "snap-b",
        restoreWorkloads: true,
      }),
    );
    expect(refused.error.code).toBe(Code.FailedPrecondition);
    expect(refused.error.rawMessage).toMatch(/restore_workloads is not supported/);
    expect((await c.vc.listVClusters({ namespace: "snap-b" })).vclusters).toEqual([]);
    expect(await cluster.kubectl("get", "namespace", "snap-b", "--ignore-not-found", "-o", "name")).toBe("");
  });

  it(
    "restores into a new vcluster: recorded values installed, paused, vcluster's restore pod, resumed",
    async () => {
      const restored = await c.vc.restoreVCluster({
        name: "alpha",
        namespace: "snap-a",
        snapshotId: first,
        createNew: true,
        newName: "beta",
        newNamespace: "snap-b",
      });
      expect(restored.vcluster?.status?.phase).toBe(Phase.CREATING);

      // vcluster's restore pod appears once the new control plane is installed and paused.
      const pod = await restorePod("snap-b");
      expect(pod.metadata.name).toMatch(/^vcluster-snapshot-[a-z0-9]{6}$/);
      expect(pod.spec.restartPolicy).toBe("Never");
      const container = pod.spec.containers[0];
      expect(container.name).toBe("snapshot");
      expect(container.image).toBe("ghcr.io/loft-sh/vcluster-pro:0.31.0");
      expect(container.command).toEqual(["/vcluster", "restore", "--new-vcluster"]);
      const secretName = pod.metadata.name.replace("vcluster-snapshot-", "vcluster-snapshot-options-");
      expect(container.env).toContainEqual({
        name: "VCLUSTER_STORAGE_OPTIONS",
        valueFrom: { secretKeyRef: { name: secretName, key: "VCLUSTER_STORAGE_OPTIONS" } },
      });
      expect(container.env).toContainEqual({ name: "POD_NAME", value: "beta-0" });
      const secret = await json("get", "secret", secretName, "-n", "snap-b");
      const options = JSON.parse(
        Buffer.from(Buffer.from(secret.data.VCLUSTER_STORAGE_OPTIONS, "base64").toString("utf8"), "base64").toString(
          "utf8",
        ),
      );
      expect(options).toMatchObject({
        type: "container",
        container: { path: `/data/snapshots/snap-a/alpha-${first}.tar.gz` },
      });
      // While it restores, the new control plane is paused the vcluster way and the quota is gone.
      const sts = await json("get", "statefulset", "beta", "-n", "snap-b");
      expect(sts.spec.replicas).toBe(0);
      expect(sts.metadata.annotations["loft.sh/paused"]).toBe("true");
      expect(await cluster.kubectl("get", "resourcequota", "-n", "snap-b", "-o", "name")).toBe("");

      // The restore ends as vcluster's would: container exit code 0.
      await finishRestorePod(pod, 0);
      await server.api.idle();
      const beta = (await c.vc.getVCluster({ name: "beta", namespace: "snap-b" })).vcluster;
      expect(beta?.status?.phase, beta?.status?.message).toBe(Phase.RUNNING);
      expect(beta?.annotations["vcluster.open-vcluster.io/restored-from"]).toBe(first);
      // Installed with the values the snapshot recorded.
      expect(await helmJson("get", "values", "beta", "-n", "snap-b")).toEqual(
        await helmJson("get", "values", "alpha", "-n", "snap-a"),
      );
      const back = await json("get", "statefulset", "beta", "-n", "snap-b");
      expect(back.spec.replicas).toBe(1);
      expect(Object.keys(back.metadata.annotations ?? {}).filter((k) => k.startsWith("loft.sh/"))).toEqual([]);
      expect((await json("get", "pods", "-n", "snap-b", "-l", "app=vcluster-snapshot")).items).toEqual([]);
      expect((await json("get", "secrets", "-n", "snap-b", "-l", "app=vcluster-snapshot")).items).toEqual([]);
    },
    OP_TIMEOUT,
  );

  it(
    "restores in place: helm upgrade with the recorded values, paused, vcluster's restore pod, resumed",
    async () => {
      const revision = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster?.status?.helmRelease
        ?.revision;
      await c.vc.restoreVCluster({ name: "alpha", namespace: "snap-a", snapshotId: first });
      const pod = await restorePod("snap-a");
      expect(pod.spec.containers[0].command).toEqual(["/vcluster", "restore"]);
      expect((await json("get", "statefulset", "alpha", "-n", "snap-a")).spec.replicas).toBe(0);
      await finishRestorePod(pod, 0);
      await server.api.idle();
      const alpha = (await c.vc.getVCluster({ name: "alpha", namespace: "snap-a" })).vcluster;
      expect(alpha?.status?.phase, alpha?.status?.message).toBe(Phase.RUNNING);
      expect(alpha?.status?.helmRelease?.revision).toBe((revision ?? 0) + 1);
      expect((await json("get", "statefulset", "alpha", "-n", "snap-a")).spec.replicas).toBe(1);
    },
    OP_TIMEOUT,
  );

  it(
    "reports a failed restore pod with its exit code and message",
    async () => {
      await c.vc.restoreVCluster({
        name: "alpha",
        namespace: "snap-a",
        snapshotId: first,
        createNew: true,
        newName: "gamma",
        newNamespace: "snap-c",
      });
      await finishRestorePod(await restorePod("snap-c"), 1, "snapshot not found");
      await server.api.idle();
      const gamma = (await c.vc.getVCluster({ name: "gamma", namespace: "snap-c" })).vcluster;
      expect(gamma?.status?.phase).toBe(Phase.ERROR);
      expect(gamma?.status?.message).toMatch(/restore pod failed: exit code 1 \(Error: snapshot not found\)/);
      expect((await json("get", "pods", "-n", "snap-c", "-l", "app=vcluster-snapshot")).items).toEqual([]);
      await c.vc.deleteVCluster({ name: "gamma", namespace: "snap-c", gracePeriodSeconds: 5 });
      await server.api.idle();
      expect(await cluster.kubectl("get", "namespace", "snap-c", "--ignore-not-found", "-o", "name")).toBe("");
    },
    OP_TIMEOUT,
  );

  it(
    "suspends with create_snapshot: the snapshot request first, then vcluster's pause",
    async () => {
      const suspended = await c.vc.suspendVCluster({
        name: "beta",
        namespace: "snap-b",
        createSnapshot: true,
        snapshotName: "before-pause",
      });
      await server.api.idle();
      const id = suspended.snapshot?.id ?? "";
      const snapshot = (await c.snap.getSnapshot({ id })).snapshot;
      expect(snapshot?.status).toBe(SnapshotStatus.READY);
      expect(snapshot?.storageUri).toBe(`${SNAPSHOT_URL}/snap-b/beta-${id}.tar.gz`);
      expect((await requestsOf("snap-b", id)).length).toBe(1);
      const beta = (await c.vc.getVCluster({ name: "beta", namespace: "snap-b" })).vcluster;
      expect(beta?.status?.phase, beta?.status?.message).toBe(Phase.SUSPENDED);
      const sts = await json("get", "statefulset", "beta", "-n", "snap-b");
      expect(sts.spec.replicas).toBe(0);
      expect(sts.metadata.annotations["loft.sh/paused"]).toBe("true");
    },
    OP_TIMEOUT,
  );

  it(
    "deletes with delete_snapshots: vcluster deletion requests for the stored snapshots, then the requests",
    async () => {
      const ready = (await c.snap.listSnapshots({ namespace: "snap-a" })).snapshots.filter(
        (s) => s.status === SnapshotStatus.READY,
      );
      expect(ready.map((s) => s.name).sort()).toEqual(["across", "first"]);
      await c.vc.deleteVCluster({ name: "alpha", namespace: "snap-a", deleteSnapshots: true, gracePeriodSeconds: 5 });
      await server.api.idle();
      const deletions = [...controller.seen.values()].filter((r) =>
        r.name.startsWith("alpha-snapshot-request-delete-"),
      );
      expect(deletions.map((r) => JSON.parse(r.created).spec.url).sort()).toEqual(
        ready.map((s) => s.storageUri).sort(),
      );
      for (const deletion of deletions) {
        expect(JSON.parse(deletion.created).status).toEqual({ phase: "Deleting", error: {} });
        expect(deletion.phase).toBe("Deleted");
      }
      const gone = await expectError(() => c.vc.getVCluster({ name: "alpha", namespace: "snap-a" }));
      expect(gone.error.code).toBe(Code.NotFound);
      expect((await c.snap.listSnapshots({ namespace: "snap-a" })).snapshots).toEqual([]);
      expect((await json("get", "configmaps", "-A", "-l", "vcluster.loft.sh/vcluster-name=alpha")).items).toEqual([]);
      expect(await cluster.kubectl("get", "namespace", "snap-a", "--ignore-not-found", "-o", "name")).toBe("");

      await c.vc.deleteVCluster({ name: "beta", namespace: "snap-b" });
      await server.api.idle();
      expect(await helmJson("list", "-A")).toEqual([]);
    },
    OP_TIMEOUT,
  );
});
