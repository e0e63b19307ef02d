import { writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useCliAgainstServer } from "./cli-harness.js";

const suite = useCliAgainstServer();
const { ok, json } = suite;

describe.concurrent("create, get and list", () => {
  beforeAll(async () => {
    await ok("create", "web", "-n", "shop", "--label", "tier=web", "--cpu-request", "300m", "--wait");
    await ok("create", "api", "-n", "shop", "--label", "tier=api", "--kubernetes-version", "1.33.1");
    await ok("create", "lab", "--label", "tier=lab");
  });

  it("prints a kubectl-style confirmation, or the object with -o json", async () => {
    expect(await ok("create", "one-off", "-n", "misc")).toBe("vcluster misc/one-off created\n");
    const created = await json("create", "two-off", "-n", "misc", "--memory-limit", "8Gi");
    expect(created).toMatchObject({ name: "two-off", namespace: "misc", spec: { resources: { memoryLimit: "8Gi" } } });
  });

  it("shows one vcluster as a table, a wide table, JSON and YAML", async () => {
    const table = await ok("get", "web", "-n", "shop");
    expect(table.split("\n")[0]).toMatch(/^NAME\s+PHASE\s+VERSION\s+READY\s+AGE$/);
    expect(table).toMatch(/^web\s+Running\s+1\.34\.2\s+1\/1\s+\d+s$/m);
    const wide = await ok("get", "web", "-n", "shop", "-o", "wide");
    expect(wide).toMatch(/CPU\s+MEMORY\s+ENDPOINT\s+LABELS\s+ID/);
    expect(wide).toMatch(/300m\/-.*https:\/\/web\.shop\.vcluster\.local:443 \(simulated\)\s+tier=web/);
    const object = await json("get", "web", "-n", "shop");
    expect(object).toMatchObject({ name: "web", labels: { tier: "web" }, status: { phase: "PHASE_RUNNING" } });
    const yaml = parse(await ok("get", "web", "-n", "shop", "-o", "yaml"));
    expect(yaml).toEqual(object);
    expect(await json("get", "--id", object.id)).toMatchObject({ name: "web" });
  });

  it("lists the context's namespace (else default) without -n, every namespace with -A", async () => {
    const plain = await ok("list");
    expect(plain.split("\n")[0]).toMatch(/^NAME\s+PHASE/);
    expect(plain).toMatch(/^lab\s/m);
    expect(plain).not.toMatch(/^web\s/m);
    const all = await ok("list", "-A");
    expect(all.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(all).toMatch(/^default\s+lab\s/m);
    expect(all).toMatch(/^shop\s+web\s/m);
    const shop = await ok("list", "-n", "shop");
    expect(shop.split("\n")[0]).toMatch(/^NAME\s+PHASE/);
    expect(shop.trim().split("\n")).toHaveLength(3);
    expect((await ok("get", "-n", "shop")).trim().split("\n")).toHaveLength(3);
    // A context's namespace is the default of a list, as kubectl's is.
    await ok("config", "set-context", "shop", "--server", suite.sandbox.env.VCLUSTER_API_SERVER ?? "", "-n", "shop");
    const inContext = await ok("--context", "shop", "list", "-o", "name");
    expect(inContext.split("\n").filter(Boolean).sort()).toEqual(["vcluster/api", "vcluster/web"]);
  });

  it("filters by label selector and phase, and wraps structured lists in items", async () => {
    const selected = await json("list", "-A", "-l", "tier in (web,api)");
    expect(selected.items.map((v: { name: string }) => v.name).sort()).toEqual(["api", "web"]);
    const yaml = parse(await ok("list", "-l", "tier=lab", "-o", "yaml"));
    expect(yaml.items.map((v: { name: string }) => v.name)).toEqual(["lab"]);
    const none = await suite.sandbox.run(["list", "-l", "tier=nothing"]);
    expect(none).toMatchObject({ code: 0, stdout: "" });
    expect(none.stderr).toContain("No vclusters found");
    const wide = await ok("list", "-n", "shop", "--phase", "running", "-o", "wide");
    expect(wide).toMatch(/LABELS/);
  });

  it("follows every page", async () => {
    for (const i of [1, 2, 3, 4, 5]) await ok("create", `paged-${i}`, "-n", "paging");
    const listed = await json("list", "-n", "paging", "--page-size", "2");
    expect(listed.items.map((v: { name: string }) => v.name)).toEqual([
      "paged-1",
      "paged-2",
      "paged-3",
      "paged-4",
      "paged-5",
    ]);
  });
});

describe("create -f", () => {
  it("reads a CreateVClusterRequest in YAML, with flags overriding the file", async () => {
    const file = suite.sandbox.path("request.yaml");
    await writeFile(
      file,
      "name: from-file\nnamespace: files\nlabels:\n  source: file\nspec:\n  kubernetesVersion: 1.33.1\n  resources:\n    cpuRequest: 250m\n    memoryLimit: 2Gi\n",
    );
    const created = await json("create", "-f", file, "--memory-limit", "6Gi");
    expect(created).toMatchObject({
      name: "from-file",
      namespace: "files",
      labels: { source: "file" },
      spec: { kubernetesVersion: "1.33.1", resources: { cpuRequest: "250m", memoryLimit: "6Gi" } },
    });
  });

  it("reads a bare VClusterSpec in JSON from stdin", async () => {
    const result = await suite.sandbox.run(["create", "from-stdin", "-n", "files", "-f", "-", "-o", "json"], {
      input: JSON.stringify({ kubernetes_version: "1.32.4", isolationMode: "lite" }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).spec).toMatchObject({ kubernetesVersion: "1.32.4", isolationMode: "lite" });
  });

  it("reports a field error from the file as a usage error", async () => {
    const file = suite.sandbox.path("bad-spec.yaml");
    await writeFile(file, "name: bad\nspec:\n  replicas: lots\n");
    const result = await suite.sandbox.run(["create", "-f", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad-spec\.yaml.*replicas/);
  });
});
