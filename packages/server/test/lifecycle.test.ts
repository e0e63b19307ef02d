import { Code } from "@connectrpc/connect";
import { Annotations, Phase, SnapshotStatus } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, createRunning, expectError, type Protocol, testServer, transportFor } from "./support.js";

const protocols: [Protocol, "1.1" | "2"][] = [
  ["connect", "1.1"],
  ["connect", "2"],
  ["grpc", "2"],
  ["grpc-web", "1.1"],
  ["grpc-web", "2"],
];

describe.each(protocols)("lifecycle over %s (HTTP/%s)", (protocol, httpVersion) => {
  it("creates, reads, scales, suspends, resumes, snapshots, restores and deletes", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, protocol, httpVersion));

    const created = await c.vc.createVCluster({ name: "alpha", labels: { env: "dev" } });
    expect(created.vcluster?.status?.phase).toBe(Phase.CREATING);
    expect(created.operationId).not.toBe("");
    expect(created.vcluster?.spec?.resources?.cpuRequest).toBe("200m");
    expect(created.vcluster?.namespace).toBe("default");
    expect(created.vcluster?.owner).toBe("anonymous");
    await server.api.idle();

    const running = (await c.vc.getVCluster({ name: "alpha" })).vcluster;
    expect(running?.status?.phase).toBe(Phase.RUNNING);
    expect(running?.status?.readyReplicas).toBe(1);
    expect(running?.status?.observedGeneration).toBe(1n);
    expect(running?.status?.conditions.find((x) => x.type === "Ready")?.status).toBe("True");
    expect(running?.status?.helmRelease?.revision).toBe(1);
    expect(running?.status?.currentUsage?.podCount).toBeGreaterThan(0);
    expect(running?.status?.kubeconfig).toBe("");
    expect(running?.annotations[Annotations.operationId]).toBe(created.operationId);

    const scaled = await c.vc.scaleVCluster({ name: "alpha", resources: { cpuRequest: "500m" } });
    expect(scaled.vcluster?.status?.phase).toBe(Phase.SCALING);
    await server.api.idle();
    const afterScale = (await c.vc.getVCluster({ name: "alpha" })).vcluster;
    expect(afterScale?.spec?.resources?.cpuRequest).toBe("500m");
    expect(afterScale?.status?.helmRelease?.revision).toBe(2);
    expect(afterScale?.annotations[Annotations.generation]).toBe("2");

    const snap = await c.vc.snapshotVCluster({ name: "alpha", snapshotName: "s1", retentionHours: 2 });
    expect(snap.snapshot?.status).toBe(SnapshotStatus.CREATING);
    await server.api.idle();
    const ready = (await c.snap.getSnapshot({ id: snap.snapshot?.id ?? "" })).snapshot;
    expect(ready?.status).toBe(SnapshotStatus.READY);
    expect(ready?.sizeBytes).toBeGreaterThan(0n);
    expect(ready?.storageUri).toBe(`container:///snapshots/default/${ready?.id}.tar.gz`);
    expect(ready?.expireTime).toBeDefined();

    await c.vc.updateVCluster({ name: "alpha", labels: { env: "prod" }, updateMask: { paths: ["labels"] } });
    const suspended = await c.vc.suspendVCluster({ name: "alpha" });
    await server.api.idle();
    const s = (await c.vc.getVCluster({ name: "alpha" })).vcluster;
    expect(s?.status?.phase).toBe(Phase.SUSPENDED);
    expect(s?.annotations["loft.sh/paused"]).toBe("true");
    expect(s?.status?.readyReplicas).toBe(0);
    expect(suspended.operationId).not.toBe("");

    const notRunning = await expectError(() => c.vc.getVClusterKubeconfig({ name: "alpha" }));
    expect(notRunning.error.code).toBe(Code.FailedPrecondition);
    expect(notRunning.detail?.metadata.phase).toBe("PHASE_SUSPENDED");
    expect(notRunning.error.rawMessage).toContain("PHASE_SUSPENDED");

    await c.vc.restoreVCluster({ name: "alpha", snapshotId: ready?.id ?? "" });
    await server.api.idle();
    const restored = (await c.vc.getVCluster({ name: "alpha" })).vcluster;
    expect(restored?.status?.phase).toBe(Phase.RUNNING);
    expect(restored?.labels.env).toBe("dev");
    expect(restored?.annotations["loft.sh/paused"]).toBeUndefined();

    const kc = await c.vc.getVClusterKubeconfig({ name: "alpha", format: "token", validityHours: 1 });
    expect(Buffer.from(kc.kubeconfig, "base64").toString()).toContain("vcluster_alpha_default");
    expect(kc.expiresAt).toBeDefined();

    const copy = await c.vc.restoreVCluster({
      name: "alpha",
      snapshotId: ready?.id ?? "",
      createNew: true,
      newName: "beta",
    });
    expect(copy.vcluster?.status?.phase).toBe(Phase.CREATING);
    await server.api.idle();

    const del = await c.vc.deleteVCluster({ name: "alpha", deleteSnapshots: true });
    expect(del.deleteTime).toBeDefined();
    await server.api.idle();
    expect((await expectError(() => c.vc.getVCluster({ name: "alpha" }))).error.code).toBe(Code.NotFound);
    expect((await expectError(() => c.snap.getSnapshot({ id: ready?.id ?? "" }))).error.code).toBe(Code.NotFound);
    expect((await c.vc.getVCluster({ name: "beta" })).vcluster?.status?.phase).toBe(Phase.RUNNING);
  });
});

describe("state machine", () => {
  it("rejects mutations while another operation runs, naming the phase", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "busy");
    server.faults.provider.inject({ kind: "scale", mode: "slow", delayMs: 60_000 });
    await c.vc.scaleVCluster({ name: "busy", replicas: 1, resources: { cpuRequest: "300m" } });
    for (const call of [
      () => c.vc.suspendVCluster({ name: "busy" }),
      () => c.vc.snapshotVCluster({ name: "busy" }),
      () => c.vc.updateVCluster({ name: "busy", spec: { replicas: 1, kubernetesVersion: "1.35.0" } }),
      () => c.vc.deleteVCluster({ name: "busy" }),
      () => c.vc.resumeVCluster({ name: "busy" }),
    ]) {
      const { error, detail } = await expectError(call);
      expect(error.code).toBe(Code.FailedPrecondition);
      expect(detail?.reason).toBe("FAILED_PRECONDITION");
      expect(detail?.metadata.phase).toBe("PHASE_SCALING");
    }
    // A forced delete takes over the running scale.
    await c.vc.deleteVCluster({ name: "busy", force: true });
    await server.api.idle();
    expect((await expectError(() => c.vc.getVCluster({ name: "busy" }))).error.code).toBe(Code.NotFound);
  });

  it("moves to ERROR with reason and conditions when the provider fails, and recovers by restore", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    await createRunning(server, c, "flaky");
    const snap = await c.vc.snapshotVCluster({ name: "flaky", snapshotName: "good" });
    await server.api.idle();
    server.faults.provider.inject({ kind: "update", mode: "fail", message: "helm upgrade timed out" });
    await c.vc.updateVCluster({
      name: "flaky",
      spec: { replicas: 1, kubernetesVersion: "1.35.0" },
      updateMask: { paths: ["spec.kubernetes_version"] },
    });
    await server.api.idle();
    const failed = (await c.vc.getVCluster({ name: "flaky" })).vcluster;
    expect(failed?.status?.phase).toBe(Phase.ERROR);
    expect(failed?.status?.reason).toBe("ProviderFailed");
    expect(failed?.status?.message).toContain("helm upgrade timed out");
    expect(failed?.status?.conditions.find((x) => x.type === "Ready")?.reason).toBe("ProviderFailed");
    await c.vc.restoreVCluster({ name: "flaky", snapshotId: snap.snapshot?.id ?? "" });
    await server.api.idle();
    const back = (await c.vc.getVCluster({ name: "flaky" })).vcluster;
    expect(back?.status?.phase).toBe(Phase.RUNNING);
    expect(back?.spec?.kubernetesVersion).toBe("1.34.2");
  });

  it("checks the snapshot before touching the vcluster on restore", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "r");
    const missing = await expectError(() =>
      c.vc.restoreVCluster({ name: "r", snapshotId: "00000000-0000-4000-8000-000000000000" }),
    );
    expect(missing.error.code).toBe(Code.NotFound);
    server.faults.provider.inject({ kind: "snapshot", mode: "slow", delayMs: 60_000 });
    const pending = await c.vc.snapshotVCluster({ name: "r" });
    const unready = await expectError(() =>
      c.vc.restoreVCluster({ name: "r", snapshotId: pending.snapshot?.id ?? "" }),
    );
    expect(unready.error.code).toBe(Code.FailedPrecondition);
    const inUse = await expectError(() => c.snap.deleteSnapshot({ id: pending.snapshot?.id ?? "" }));
    expect(inUse.error.code).toBe(Code.FailedPrecondition);
    await c.snap.deleteSnapshot({ id: pending.snapshot?.id ?? "", force: true });
    expect((await c.vc.getVCluster({ name: "r" })).vcluster?.status?.phase).toBe(Phase.SNAPSHOTTING);
  });

  it("fails only the snapshot, not the vcluster, when capturing the backing store fails", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "shaky");
    server.faults.provider.inject({ kind: "snapshot", mode: "fail", message: "object store unreachable" });
    const taken = await c.vc.snapshotVCluster({ name: "shaky", snapshotName: "broken" });
    await server.api.idle();
    const snapshot = (await c.snap.getSnapshot({ id: taken.snapshot?.id ?? "" })).snapshot;
    expect(snapshot?.status).toBe(SnapshotStatus.FAILED);
    const vcluster = (await c.vc.getVCluster({ name: "shaky" })).vcluster;
    expect(vcluster?.status?.phase).toBe(Phase.RUNNING);
    expect(vcluster?.status?.reason).toBe("SnapshotFailed");
    expect(vcluster?.status?.message).toContain("object store unreachable");
    expect(vcluster?.status?.lastSnapshot?.status).toBe("SNAPSHOT_STATUS_FAILED");
    const restore = await expectError(() => c.vc.restoreVCluster({ name: "shaky", snapshotId: snapshot?.id ?? "" }));
    expect(restore.error.code).toBe(Code.FailedPrecondition);
  });

  it("suspends with a snapshot first and resumes", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "sleepy", { spec: { replicas: 1 } });
    const res = await c.vc.suspendVCluster({
      name: "sleepy",
      createSnapshot: true,
      snapshotName: "before-sleep",
      drainWorkloads: true,
    });
    expect(res.snapshot?.name).toBe("before-sleep");
    expect(res.vcluster?.status?.phase).toBe(Phase.SNAPSHOTTING);
    await server.api.idle();
    const s = (await c.vc.getVCluster({ name: "sleepy" })).vcluster;
    expect(s?.status?.phase).toBe(Phase.SUSPENDED);
    expect(s?.status?.lastSnapshot?.status).toBe("SNAPSHOT_STATUS_READY");
    expect(s?.status?.conditions.find((x) => x.type === "Suspended")?.status).toBe("True");
    const resumed = await c.vc.resumeVCluster({ name: "sleepy" });
    expect(resumed.vcluster?.status?.phase).toBe(Phase.RESUMING);
    await server.api.idle();
    const r = (await c.vc.getVCluster({ name: "sleepy" })).vcluster;
    expect(r?.status?.phase).toBe(Phase.RUNNING);
    expect(r?.annotations["loft.sh/paused-replicas"]).toBeUndefined();
    const again = await expectError(() => c.vc.resumeVCluster({ name: "sleepy" }));
    expect(again.detail?.metadata.phase).toBe("PHASE_RUNNING");
  });
});
