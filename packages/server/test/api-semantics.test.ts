import { Code } from "@connectrpc/connect";
import { Phase } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { clientsFor, createRunning, expectError, testServer, transportFor } from "./support.js";

describe("create", () => {
  it("replays the first response for a repeated request_id and rejects reuse with another request", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    server.faults.rpc.inject({ procedure: "CreateVCluster", code: Code.Unavailable, when: "after" });
    const lost = await expectError(() =>
      c.vc.createVCluster({ name: "idem", requestId: "req-1", labels: { a: "1", b: "2" } }),
    );
    expect(lost.error.code).toBe(Code.Unavailable);
    const retry = await c.vc.createVCluster({ name: "idem", requestId: "req-1", labels: { b: "2", a: "1" } });
    const again = await c.vc.createVCluster({ name: "idem", requestId: "req-1", labels: { a: "1", b: "2" } });
    expect(again.operationId).toBe(retry.operationId);
    expect(again.vcluster?.id).toBe(retry.vcluster?.id);
    const reused = await expectError(() => c.vc.createVCluster({ name: "other", requestId: "req-1" }));
    expect(reused.error.code).toBe(Code.AlreadyExists);
    expect(reused.detail?.reason).toBe("REQUEST_ID_REUSED");
    const dup = await expectError(() => c.vc.createVCluster({ name: "idem" }));
    expect(dup.error.code).toBe(Code.AlreadyExists);
    expect(dup.detail?.reason).toBe("ALREADY_EXISTS");
  });

  it("waits for ready, and times out with DEADLINE_EXCEEDED leaving the vcluster", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "grpc"));
    const ready = await c.vc.createVCluster({ name: "w1", waitForReady: true });
    expect(ready.vcluster?.status?.phase).toBe(Phase.RUNNING);
    server.faults.provider.inject({ kind: "create", mode: "slow", delayMs: 60_000 });
    const slow = await expectError(() => c.vc.createVCluster({ name: "w2", waitForReady: true, timeoutSeconds: 1 }));
    expect(slow.error.code).toBe(Code.DeadlineExceeded);
    expect((await c.vc.getVCluster({ name: "w2" })).vcluster?.status?.phase).toBe(Phase.CREATING);
  });

  it("validates with field-naming INVALID_ARGUMENT", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    const legacy = await expectError(() => c.vc.createVCluster({ name: "x", spec: { distro: "k3s" } }));
    expect(legacy.error.code).toBe(Code.InvalidArgument);
    expect(legacy.detail?.field).toBe("spec.distro");
    const badName = await expectError(() => c.vc.createVCluster({ name: "Bad_Name" }));
    expect(badName.detail?.field).toBe("name");
  });
});

describe("update mask", () => {
  it("applies paths, rejects output-only/unknown paths, distro changes and downgrades", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect"));
    await createRunning(server, c, "u");
    const res = await c.vc.updateVCluster({
      name: "u",
      spec: { resources: { memoryRequest: "512Mi" } },
      updateMask: { paths: ["spec.resources.memory_request"] },
    });
    expect(res.vcluster?.status?.phase).toBe(Phase.UPDATING);
    expect(res.vcluster?.spec?.resources?.memoryRequest).toBe("512Mi");
    expect(res.vcluster?.spec?.resources?.cpuRequest).toBe("200m");
    await server.api.idle();
    for (const path of ["status", "id", "create_time", "spec.nope"]) {
      const bad = await expectError(() => c.vc.updateVCluster({ name: "u", updateMask: { paths: [path] } }));
      expect(bad.error.code).toBe(Code.InvalidArgument);
      expect(bad.detail?.field).toBe("update_mask.paths[0]");
    }
    const distro = await expectError(() =>
      c.vc.updateVCluster({ name: "u", spec: { distro: "k0s" }, updateMask: { paths: ["spec.distro"] } }),
    );
    expect(distro.error.code).toBe(Code.InvalidArgument);
    const down = await expectError(() =>
      c.vc.updateVCluster({
        name: "u",
        spec: { kubernetesVersion: "1.33.0" },
        updateMask: { paths: ["spec.kubernetes_version"] },
      }),
    );
    expect(down.error.code).toBe(Code.FailedPrecondition);
    // Omitted mask: only populated fields change.
    await c.vc.updateVCluster({ name: "u", labels: { team: "a" } });
    const got = (await c.vc.getVCluster({ name: "u" })).vcluster;
    expect(got?.labels).toEqual({ team: "a" });
    expect(got?.spec?.resources?.memoryRequest).toBe("512Mi");
  });
});

describe("paging", () => {
  it("pages without skips or repeats while items are created and deleted, with bound tokens", async () => {
    const server = await testServer();
    const c = clientsFor(transportFor(server, "connect", "1.1"));
    for (let i = 0; i < 12; i++)
      await c.vc.createVCluster({ name: `p-${String(i).padStart(2, "0")}`, labels: { set: "a" } });
    const seen: string[] = [];
    let token = "";
    let round = 0;
    do {
      const page = await c.vc.listVClusters({ pageSize: 5, pageToken: token, labelSelector: "set=a" });
      if (round === 0) expect(page.totalCount).toBe(12);
      seen.push(...page.vclusters.map((v) => v.name));
      token = page.nextPageToken;
      if (round === 0) {
        await c.vc.createVCluster({ name: "p-00a", labels: { set: "a" } });
        await c.vc.deleteVCluster({ name: "p-11", force: true });
        await server.api.idle();
      }
      round += 1;
    } while (token);
    const original = Array.from({ length: 11 }, (_, i) => `p-${String(i).padStart(2, "0")}`);
    for (const name of original) expect(seen.filter((n) => n === name)).toHaveLength(1);

    const first = await c.vc.listVClusters({ pageSize: 2 });
    const other = await expectError(() =>
      c.vc.listVClusters({ pageSize: 2, pageToken: first.nextPageToken, labelSelector: "x" }),
    );
    expect(other.detail?.reason).toBe("INVALID_PAGE_TOKEN");
    const tampered = `${first.nextPageToken.slice(0, -2)}AA`;
    const bad = await expectError(() => c.vc.listVClusters({ pageSize: 2, pageToken: tampered }));
    expect(bad.error.code).toBe(Code.InvalidArgument);
    expect(bad.detail?.reason).toBe("INVALID_PAGE_TOKEN");
    const negative = await expectError(() => c.vc.listVClusters({ pageSize: -1 }));
    expect(negative.error.code).toBe(Code.InvalidArgument);
    expect((await c.vc.listVClusters({ pageSize: 5000 })).vclusters.length).toBe(12);
  });
});
