import { create } from "@bufbuild/protobuf";
import { VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { editChanges, editFormOf } from "./edit-changes.js";

const vcluster = create(VClusterSchema, {
  name: "dev",
  namespace: "team-a",
  labels: { team: "a", env: "dev" },
  spec: {
    kubernetesVersion: "1.34.2",
    resources: { cpuRequest: "200m", memoryRequest: "256Mi", memoryLimit: "4Gi" },
  },
});

describe("editFormOf", () => {
  it("shows the current values, labels one per line in key order", () => {
    expect(editFormOf(vcluster)).toEqual({
      labels: "env=dev\nteam=a",
      kubernetesVersion: "1.34.2",
      cpuRequest: "200m",
      cpuLimit: "",
      memoryRequest: "256Mi",
      memoryLimit: "4Gi",
    });
  });
});

describe("editChanges", () => {
  it("names nothing when the form is unchanged, even when reformatted", () => {
    const changes = editChanges(vcluster, {
      ...editFormOf(vcluster),
      labels: " team = a, env=dev ",
      cpuRequest: " 200m",
    });
    expect(changes).toMatchObject({ paths: [], specChanged: false });
  });

  it("names only labels for a labels-only change, which needs no operation", () => {
    const changes = editChanges(vcluster, { ...editFormOf(vcluster), labels: "env=prod\nowner=me" });
    expect(changes).toMatchObject({ paths: ["labels"], labels: { env: "prod", owner: "me" }, specChanged: false });
  });

  it("treats a removed label as a change", () => {
    expect(editChanges(vcluster, { ...editFormOf(vcluster), labels: "env=dev" })).toMatchObject({ paths: ["labels"] });
  });

  it("names each changed spec field by its path relative to VCluster", () => {
    const changes = editChanges(vcluster, {
      ...editFormOf(vcluster),
      kubernetesVersion: "1.35.0 ",
      cpuLimit: "2",
      memoryLimit: "",
    });
    expect(changes).toMatchObject({
      paths: ["spec.kubernetes_version", "spec.resources.cpu_limit", "spec.resources.memory_limit"],
      specChanged: true,
      spec: { kubernetesVersion: "1.35.0", resources: { cpuLimit: "2", memoryLimit: "", cpuRequest: "200m" } },
    });
  });

  it("reports labels that are not key=value pairs", () => {
    expect(editChanges(vcluster, { ...editFormOf(vcluster), labels: "env" })).toEqual({
      labelError: '"env" is not key=value',
    });
  });
});
