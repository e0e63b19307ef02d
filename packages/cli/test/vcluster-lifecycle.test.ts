import { writeFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { useCliAgainstServer } from "./cli-harness.js";

const suite = useCliAgainstServer();
const { ok, json } = suite;

describe("update, scale, suspend, resume, delete", () => {
  beforeAll(async () => {
    await ok("create", "box", "-n", "ops", "--label", "keep=yes", "--label", "drop=me", "--wait");
  });

  it("updates only the fields given and edits labels like kubectl", async () => {
    const updated = await json(
      "update",
      "box",
      "-n",
      "ops",
      "--memory-limit",
      "8Gi",
      "--label",
      "drop-",
      "--label",
      "new=1",
      "--wait",
    );
    expect(updated.labels).toEqual({ keep: "yes", new: "1" });
    expect(updated.spec.resources).toMatchObject({ memoryLimit: "8Gi", cpuRequest: "200m" });
    expect(updated.status.phase).toBe("PHASE_RUNNING");
  });

  it("updates from a spec file, applying explicit false values", async () => {
    await ok("update", "box", "-n", "ops", "--enable-network-policies", "--wait");
    const file = suite.sandbox.path("patch.yaml");
    await writeFile(file, "network:\n  enableNetworkPolicies: false\nresources:\n  cpuLimit: '2'\n");
    const updated = await json("update", "box", "-n", "ops", "-f", file, "--wait");
    expect(updated.spec.network?.enableNetworkPolicies ?? false).toBe(false);
    expect(updated.spec.resources).toMatchObject({ cpuLimit: "2", memoryLimit: "8Gi" });
  });

  it("refuses an update without changes", async () => {
    const result = await suite.sandbox.run(["update", "box", "-n", "ops"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("nothing to update");
  });

  it("scales the control plane", async () => {
    expect(await ok("scale", "box", "-n", "ops", "--cpu-request", "1", "--wait")).toBe("vcluster ops/box scaled\n");
    expect((await json("get", "box", "-n", "ops")).spec.resources.cpuRequest).toBe("1");
  });

  it("suspends and resumes", async () => {
    expect(await ok("suspend", "box", "-n", "ops", "--wait")).toBe("vcluster ops/box suspended\n");
    expect((await json("get", "box", "-n", "ops")).status.phase).toBe("PHASE_SUSPENDED");
    const resumed = await json("resume", "box", "-n", "ops", "--wait");
    expect(resumed.status.phase).toBe("PHASE_RUNNING");
  });

  it("deletes several vclusters and waits until they are gone", async () => {
    await ok("create", "gone-1", "-n", "trash");
    await ok("create", "gone-2", "-n", "trash", "--wait");
    const out = await ok("delete", "gone-1", "gone-2", "-n", "trash", "--wait");
    expect(out.split("\n").sort()).toEqual(["", "vcluster trash/gone-1 deleted", "vcluster trash/gone-2 deleted"]);
    expect((await suite.sandbox.run(["get", "gone-1", "-n", "trash"])).code).toBe(3);
    expect(await ok("delete", "gone-1", "-n", "trash", "--ignore-not-found")).toBe("");
  });
});
