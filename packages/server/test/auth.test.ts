import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { clientsFor, expectError, testServer, transportFor } from "./support.js";

function tokensFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "vc-auth-"));
  const file = join(dir, "tokens.yaml");
  writeFileSync(
    file,
    `tokens:
  - { token: admin-token-1, subject: root, admin: true }
  - { token: owner-token-1, subject: alice, projects: [blue] }
  - { token: member-token-1, subject: bob, projects: [blue] }
  - { token: stranger-token, subject: eve, projects: [red] }
`,
  );
  return file;
}

describe("auth and tenancy", () => {
  it("authenticates and scopes every RPC: admin / owner / project member / stranger", async () => {
    const server = await testServer({ authTokensFile: tokensFile() });
    const as = (token?: string) => clientsFor(transportFor(server, "connect", "2", token));
    const anonymous = await expectError(() => as().vc.listVClusters({}));
    expect(anonymous.error.code).toBe(Code.Unauthenticated);
    expect((await expectError(() => as("wrong-token-x").vc.listVClusters({}))).error.code).toBe(Code.Unauthenticated);

    const alice = as("owner-token-1");
    const bob = as("member-token-1");
    const eve = as("stranger-token");
    const root = as("admin-token-1");
    const created = await alice.vc.createVCluster({ name: "team", labels: { "open-vcluster.io/project": "blue" } });
    expect(created.vcluster?.owner).toBe("alice");
    expect(created.vcluster?.project).toBe("blue");
    const denied = await expectError(() =>
      eve.vc.createVCluster({ name: "x", labels: { "open-vcluster.io/project": "blue" } }),
    );
    expect(denied.error.code).toBe(Code.PermissionDenied);
    await server.api.idle();
    const snap = await alice.vc.snapshotVCluster({ name: "team", snapshotName: "t1" });
    await server.api.idle();

    for (const who of [alice, bob, root]) {
      expect((await who.vc.getVCluster({ name: "team" })).vcluster?.name).toBe("team");
      expect((await who.vc.listVClusters({})).totalCount).toBe(1);
      expect((await who.snap.listSnapshots({})).totalCount).toBe(1);
      expect((await who.snap.getSnapshot({ id: snap.snapshot?.id ?? "" })).snapshot?.name).toBe("t1");
    }
    expect((await eve.vc.listVClusters({})).totalCount).toBe(0);
    expect((await eve.snap.listSnapshots({})).totalCount).toBe(0);
    const id = snap.snapshot?.id ?? "";
    const strangerCalls: (() => Promise<unknown>)[] = [
      () => eve.vc.getVCluster({ name: "team" }),
      () => eve.vc.getVCluster({ id: created.vcluster?.id ?? "" }),
      () => eve.vc.updateVCluster({ name: "team", labels: { a: "b" } }),
      () => eve.vc.deleteVCluster({ name: "team" }),
      () => eve.vc.scaleVCluster({ name: "team", replicas: 1 }),
      () => eve.vc.suspendVCluster({ name: "team" }),
      () => eve.vc.resumeVCluster({ name: "team" }),
      () => eve.vc.snapshotVCluster({ name: "team" }),
      () => eve.vc.restoreVCluster({ name: "team", snapshotId: id }),
      () => eve.vc.getVClusterKubeconfig({ name: "team" }),
      () => eve.snap.getSnapshot({ id }),
      () => eve.snap.deleteSnapshot({ id }),
    ];
    for (const call of strangerCalls) {
      const { error } = await expectError(call);
      // Foreign objects look exactly like missing ones.
      expect(error.code).toBe(Code.NotFound);
    }
    const missing = await expectError(() => eve.vc.getVCluster({ name: "nope" }));
    expect(missing.error.rawMessage).toBe("vcluster default/nope not found");
    const foreign = await expectError(() => eve.vc.getVCluster({ name: "team" }));
    expect(foreign.error.rawMessage).toBe("vcluster default/team not found");

    // The stranger's watch sees nothing of blue; the member's does.
    const memberWatch = bob.vc.watchVCluster({})[Symbol.asyncIterator]();
    expect((await memberWatch.next()).value.vcluster.name).toBe("team");
    await memberWatch.return?.();
    await bob.vc.scaleVCluster({ name: "team", replicas: 1, resources: { cpuRequest: "300m" } });
  });

  it("scopes names by namespace, as documented: a shared namespace reveals taken names, separate ones do not", async () => {
    const server = await testServer({ authTokensFile: tokensFile() });
    const alice = clientsFor(transportFor(server, "connect", "2", "owner-token-1"));
    const eve = clientsFor(transportFor(server, "connect", "2", "stranger-token"));
    await alice.vc.createVCluster({ name: "shared", namespace: "common" });
    // Eve cannot see it, but the name is taken in the namespace they share.
    expect((await expectError(() => eve.vc.getVCluster({ name: "shared", namespace: "common" }))).error.code).toBe(
      Code.NotFound,
    );
    const taken = await expectError(() => eve.vc.createVCluster({ name: "shared", namespace: "common" }));
    expect(taken.error.code).toBe(Code.AlreadyExists);
    // The remedy: one namespace per tenant, where names never collide.
    const own = await eve.vc.createVCluster({ name: "shared", namespace: "team-red" });
    expect(own.vcluster?.owner).toBe("eve");
  });

  it("refuses a non-loopback host without auth", async () => {
    await expect(testServer({ host: "0.0.0.0" })).rejects.toThrow(/without authentication/);
  });
});
