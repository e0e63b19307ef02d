import { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import type { RunningServer } from "../src/index.js";
import { clientsFor, expectError, transportFor } from "./support.js";

/** Bearer tokens for the four roles the tenancy rules distinguish. */
export interface RoleTokens {
  /** An admin. */
  root: string;
  /** Subject "alice", member of project "blue": she creates the vcluster. */
  alice: string;
  /** Another member of "blue". */
  bob: string;
  /** Member of project "red" only. */
  eve: string;
}

/**
 * Every RPC under the tenancy rules: the owner and project members see and change the
 * vcluster, an admin sees everything, a stranger finds nothing, and foreign objects look
 * exactly like missing ones. Runs against any authenticator that yields these principals.
 */
export async function expectTenancy(server: RunningServer, tokens: RoleTokens, aliceSubject = "alice"): Promise<void> {
  const as = (token?: string) => clientsFor(transportFor(server, "connect", "2", token));
  const anonymous = await expectError(() => as().vc.listVClusters({}));
  expect(anonymous.error.code).toBe(Code.Unauthenticated);
  expect((await expectError(() => as("wrong-token-x").vc.listVClusters({}))).error.code).toBe(Code.Unauthenticated);

  const alice = as(tokens.alice);
  const bob = as(tokens.bob);
  const eve = as(tokens.eve);
  const root = as(tokens.root);
  const created = await alice.vc.createVCluster({ name: "team", labels: { "open-vcluster.io/project": "blue" } });
  expect(created.vcluster?.owner).toBe(aliceSubject);
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
}
