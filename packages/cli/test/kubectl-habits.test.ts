import { readFile, writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CliSandbox, startTestServer, useCliAgainstServer } from "./cli-harness.js";

const suite = useCliAgainstServer();
const { ok, json } = suite;

describe("output formats", () => {
  beforeAll(async () => {
    await ok("create", "beta", "-n", "fmt", "--label", "tier=b", "--wait");
    await ok("create", "alpha", "-n", "fmt", "--label", "tier=a", "--replicas", "1", "--wait");
    await ok("suspend", "beta", "-n", "fmt", "--wait");
  });

  it("prints names, JSONPath templates and custom columns", async () => {
    expect(await ok("list", "-n", "fmt", "-o", "name")).toBe("vcluster/alpha\nvcluster/beta\n");
    expect(await ok("get", "alpha", "-n", "fmt", "-o", "jsonpath={.status.phase}")).toBe("PHASE_RUNNING\n");
    const ranged = await ok("list", "-n", "fmt", "-o", 'jsonpath={range .items[*]}{.name}={.labels.tier}{"\\n"}{end}');
    expect(ranged).toBe("alpha=a\nbeta=b\n");
    const custom = await ok("list", "-n", "fmt", "-o", "custom-columns=NAME:.name,PHASE:.status.phase,OWNER:.project");
    expect(custom.split("\n")).toEqual([
      expect.stringMatching(/^NAME\s+PHASE\s+OWNER$/),
      expect.stringMatching(/^alpha\s+Running\s+<none>$/),
      expect.stringMatching(/^beta\s+Suspended\s+<none>$/),
      "",
    ]);
  });

  it("drops the header with --no-headers and orders with --sort-by", async () => {
    const rows = await ok("list", "-n", "fmt", "--no-headers", "--sort-by", ".labels.tier");
    expect(rows).toMatch(/^alpha\s+Running\s/);
    expect(rows.trim().split("\n")).toHaveLength(2);
    const byCreation = await ok("list", "-n", "fmt", "-o", "name", "--sort-by", "{.createTime}");
    expect(byCreation).toBe("vcluster/beta\nvcluster/alpha\n");
    const byPhaseDesc = await ok("list", "-n", "fmt", "--sort-by", ".status.phase", "-o", "name");
    expect(byPhaseDesc).toBe("vcluster/alpha\nvcluster/beta\n");
  });

  it("spells a phase the same in tables, errors and progress", async () => {
    const refused = await suite.sandbox.run(["suspend", "beta", "-n", "fmt"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).not.toMatch(/PHASE_|phase [A-Z]{4,}/);
    expect(refused.stderr).toMatch(/Suspended/);
  });

  it("describes a vcluster: facts, status, spec, usage, conditions and snapshots", async () => {
    await ok("resume", "beta", "-n", "fmt", "--wait");
    await ok("snapshot", "create", "beta", "-n", "fmt", "--name", "snap-1", "--wait");
    const text = await ok("describe", "beta", "-n", "fmt");
    expect(text).toMatch(/^Name: +beta$/m);
    expect(text).toMatch(/^Labels: +tier=b$/m);
    expect(text).toMatch(/^Status:\n {2}Phase: +Running$/m);
    expect(text).toMatch(/^Spec:\n {2}kubernetesVersion: /m);
    expect(text).toMatch(/^Conditions:\n {2}TYPE +STATUS +REASON +AGE +MESSAGE\n {2}Ready +True /m);
    expect(text).toMatch(/^Snapshots:\n {2}NAME +STATUS +SIZE +AGE\n {2}snap-1 +Ready /m);
    expect(text).toMatch(/^Events:\n {2}TYPE +REASON +AGE +FROM +MESSAGE\n/m);
    expect(text).toMatch(/^ {2}Normal +SnapshotRequested +\S+ +anonymous +/m);
    expect(text).toMatch(/^ {2}Normal +ResumeSucceeded +\S+ +anonymous +Resume of fmt\/beta succeeded/m);
    expect(text).toMatch(/^ {2}Normal +PhaseChanged +\S+ +server +Suspended → Resuming/m);
  });
});

describe("wait", () => {
  beforeAll(async () => {
    await ok("create", "w1", "-n", "waits", "--label", "set=w", "--wait");
    await ok("create", "w2", "-n", "waits", "--label", "set=w", "--wait");
  });

  it("waits for a phase, a condition and a JSONPath value", async () => {
    await ok("suspend", "w1", "-n", "waits");
    expect(await ok("wait", "w1", "-n", "waits", "--for=phase=Suspended")).toBe("vcluster/w1 phase Suspended\n");
    expect(await ok("wait", "w1", "-n", "waits", "--for=condition=Suspended")).toBe("vcluster/w1 condition met\n");
    await ok("resume", "w1", "-n", "waits");
    expect(await ok("wait", "w1", "-n", "waits", "--for=jsonpath={.status.phase}=Running")).toBe(
      "vcluster/w1 condition met\n",
    );
  });

  it("times out with exit 6 and says what it waited for", async () => {
    const result = await suite.sandbox.run([
      "wait",
      "w2",
      "-n",
      "waits",
      "--for=phase=Suspended",
      "--timeout",
      "300ms",
    ]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/timed out after 300 ms waiting for vcluster waits\/w2 to reach phase Suspended/);
  });

  it("waits for every vcluster a selector matches to be deleted", async () => {
    await ok("delete", "-l", "set=w", "-n", "waits", "--yes");
    const out = await ok("wait", "-l", "set=w", "-n", "waits", "--for=delete");
    // Those already gone before the wait started match nothing; any still listed are waited for.
    expect(out === "" || /^(vcluster\/w[12] deleted\n)+$/.test(out)).toBe(true);
    expect(await ok("wait", "w1", "w2", "-n", "waits", "--for=delete")).toBe(
      "vcluster/w1 deleted\nvcluster/w2 deleted\n",
    );
    const missing = await suite.sandbox.run(["wait", "w1", "-n", "waits", "--for=condition=Ready"]);
    expect(missing.code).toBe(3);
  });
});

describe("delete by selector, --all, --dry-run", () => {
  beforeAll(async () => {
    for (const name of ["d1", "d2", "d3"]) await ok("create", name, "-n", "bulk", "--label", "team=ci", "--wait");
    await ok("create", "keeper", "-n", "bulk", "--wait");
  });

  const names = async () => (await ok("list", "-n", "bulk", "-o", "name")).trim().split("\n").filter(Boolean);

  it("asks before deleting what -l matched, and an unanswered question deletes nothing", async () => {
    const refused = await suite.sandbox.run(["delete", "-l", "team=ci", "-n", "bulk"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("These 3 vclusters will be deleted:\n  bulk/d1\n  bulk/d2\n  bulk/d3\n");
    expect(refused.stderr).toMatch(/Delete 3 vclusters\? \[y\/N\] \n/);
    expect(refused.stderr).toMatch(/deletion cancelled/);
    const declined = await suite.sandbox.run(["delete", "-l", "team=ci", "-n", "bulk"], { input: "n\n" });
    expect(declined.code).toBe(1);
    expect(await names()).toHaveLength(4);
  });

  it("shows what --dry-run would delete and deletes nothing", async () => {
    const result = await suite.sandbox.run(["delete", "--all", "-n", "bulk", "--dry-run"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").filter(Boolean)).toEqual([
      "vcluster bulk/d1 would be deleted (dry run)",
      "vcluster bulk/d2 would be deleted (dry run)",
      "vcluster bulk/d3 would be deleted (dry run)",
      "vcluster bulk/keeper would be deleted (dry run)",
    ]);
    expect(result.stderr).toMatch(/dry run: nothing was deleted/);
    expect(await names()).toHaveLength(4);
  });

  it("deletes what -l matched once confirmed, waiting until they are gone", async () => {
    const result = await suite.sandbox.run(["delete", "-l", "team=ci", "-n", "bulk", "--wait"], { input: "y\n" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "vcluster bulk/d1 deleted",
      "vcluster bulk/d2 deleted",
      "vcluster bulk/d3 deleted",
    ]);
    expect(await names()).toEqual(["vcluster/keeper"]);
  });

  it("refuses names together with -l, and -l with nothing matched is not an error", async () => {
    expect((await suite.sandbox.run(["delete", "keeper", "-l", "x=y", "-n", "bulk"])).code).toBe(2);
    expect((await suite.sandbox.run(["delete", "-n", "bulk"])).code).toBe(2);
    const none = await suite.sandbox.run(["delete", "-l", "team=nobody", "-n", "bulk"]);
    expect(none).toMatchObject({ code: 0, stdout: "" });
    expect(none.stderr).toContain("nothing to delete");
  });
});

describe("--dry-run on mutations", () => {
  it("sends nothing that changes the server, and prints the request for -o json", async () => {
    const created = await suite.sandbox.run(["create", "ghost", "-n", "dry", "--cpu-request", "1", "--dry-run"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toBe("vcluster dry/ghost would be created (dry run)\n");
    expect(created.stderr).toMatch(/no server-side dry run/);
    const request = await json("create", "ghost", "-n", "dry", "--label", "a=b", "--cpu-request", "1", "--dry-run");
    expect(request).toMatchObject({
      name: "ghost",
      namespace: "dry",
      labels: { a: "b" },
      spec: { resources: { cpuRequest: "1" } },
    });
    expect((await suite.sandbox.run(["get", "ghost", "-n", "dry"])).code).toBe(3);
    await ok("create", "real", "-n", "dry", "--wait");
    expect(await ok("scale", "real", "-n", "dry", "--cpu-request", "2", "--dry-run")).toMatch(/would be scaled/);
    expect(await ok("suspend", "real", "-n", "dry", "--dry-run")).toMatch(/would be suspended/);
    expect((await json("get", "real", "-n", "dry")).status.phase).toBe("PHASE_RUNNING");
    expect((await json("get", "real", "-n", "dry")).spec.resources.cpuRequest).toBe("200m");
    // The reads it does make still find a missing vcluster.
    expect((await suite.sandbox.run(["suspend", "nobody", "-n", "dry", "--dry-run"])).code).toBe(3);
  });
});

describe("flags named after the API fields", () => {
  it("sets nested spec fields from flags and keeps the older spellings working", async () => {
    const created = await json(
      "create",
      "flagged",
      "-n",
      "flags",
      "--sync-nodes",
      "--sync-custom-resource",
      "certificates.cert-manager.io",
      "--dns-nameserver",
      "10.0.0.10",
      "--ingress-annotation",
      "a=b",
      "--service-account-name",
      "vc-sa",
      "--persistence",
      "--storage-class",
      "fast",
    );
    expect(created.spec).toMatchObject({
      sync: { syncNodes: true, customResources: ["certificates.cert-manager.io"] },
      network: { dns: { nameservers: ["10.0.0.10"] } },
      ingress: { annotations: { a: "b" } },
      serviceAccount: { name: "vc-sa" },
      storage: { enablePersistence: true, defaultStorageClass: "fast" },
    });
  });
});

describe("connect and disconnect", () => {
  beforeAll(async () => {
    await ok("create", "linked", "-n", "kube", "--wait");
  });

  it("merges the kubeconfig into $KUBECONFIG, switches to it, and undoes it", async () => {
    const kubeconfig = suite.sandbox.path("kube-config");
    await writeFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters:\n- name: home\n  cluster: {server: 'https://home:6443'}\nusers:\n- name: home\n  user: {token: t}\ncontexts:\n- name: home\n  context: {cluster: home, user: home}\ncurrent-context: home\n",
    );
    const env = { KUBECONFIG: kubeconfig };
    const connected = await suite.sandbox.run(["connect", "linked", "-n", "kube"], { env });
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toBe(
      `Switched to context "vcluster_linked_kube" for vcluster kube/linked (kubeconfig ${kubeconfig}).\n`,
    );
    const merged = parse(await readFile(kubeconfig, "utf8"));
    expect(merged["current-context"]).toBe("vcluster_linked_kube");
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(["home", "vcluster_linked_kube"]);
    expect(merged.clusters.map((c: { name: string }) => c.name)).toEqual(["home", "vcluster_linked_kube"]);
    const disconnected = await suite.sandbox.run(["disconnect"], { env });
    expect(disconnected.stdout).toBe('Removed context "vcluster_linked_kube"; switched back to "home".\n');
    const restored = parse(await readFile(kubeconfig, "utf8"));
    expect(restored["current-context"]).toBe("home");
    expect(restored.contexts).toHaveLength(1);
    expect(restored.users).toHaveLength(1);
    expect((await suite.sandbox.run(["disconnect"], { env })).code).toBe(2);
  });

  it("writes ~/.kube/config owner-only when KUBECONFIG is not set", async () => {
    expect(await ok("connect", "linked", "-n", "kube")).toMatch(/kubeconfig .*\.kube\/config\)/);
    const { stat } = await import("node:fs/promises");
    expect((await stat(suite.sandbox.path(".kube/config"))).mode & 0o777).toBe(0o600);
    expect(await ok("disconnect", "linked", "-n", "kube")).toMatch(/no context is current now/);
  });
});

describe("delete --wait", () => {
  it("shows the grace period counting down while the vcluster is Deleting", async () => {
    // Real durations: the deletion lasts the grace period, so the Deleting phase is seen.
    const server = await startTestServer({ timeScale: 1 });
    const cli = await CliSandbox.create({ VCLUSTER_API_SERVER: server.url });
    try {
      expect((await cli.run(["create", "slow", "--wait"])).code).toBe(0);
      const result = await cli.run(["delete", "slow", "--wait", "--grace-period", "3s"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^vcluster default\/slow: Deleting \(grace period: [1-3]s left\)$/m);
      expect(result.stderr).toMatch(/^vcluster default\/slow: Deleted$/m);
      expect(result.stdout).toBe("vcluster default/slow deleted\n");
    } finally {
      await server.close();
      await cli.dispose();
    }
  });
});
