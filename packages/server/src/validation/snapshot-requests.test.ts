import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  DeleteSnapshotRequestSchema,
  GetSnapshotRequestSchema,
  ListSnapshotsRequestSchema,
  RestoreVClusterRequestSchema,
  SnapshotVClusterRequestSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import type { FieldViolation } from "./field-violation.js";
import {
  validateDeleteSnapshot,
  validateGetSnapshot,
  validateListSnapshots,
  validateRestoreVCluster,
  validateSnapshotVCluster,
} from "./snapshot-requests.js";

type Expected = [string, RegExp][];

function expectViolations(violations: FieldViolation[], expected: Expected): void {
  expect(violations.map((v) => v.field)).toEqual(expected.map(([field]) => field));
  for (const [i, [, description]] of expected.entries()) expect(violations[i]?.description).toMatch(description);
}

describe("validateSnapshotVCluster", () => {
  it.each<[string, MessageInitShape<typeof SnapshotVClusterRequestSchema>, Expected]>([
    ["minimal", { name: "dev" }, []],
    [
      "full",
      {
        name: "dev",
        namespace: "ns",
        snapshotName: "nightly-1",
        description: "d",
        retentionHours: 87_600,
        labels: { kind: "nightly" },
      },
      [],
    ],
    ["missing name", {}, [["name", /is required/]]],
    ["bad snapshot name", { name: "dev", snapshotName: "Nightly" }, [["snapshot_name", /DNS-1123 label/]]],
    [
      "negative retention",
      { name: "dev", retentionHours: -1 },
      [["retention_hours", /between 0 .* and 87600 \(got -1\)/]],
    ],
    ["retention too long", { name: "dev", retentionHours: 87_601 }, [["retention_hours", /got 87601/]]],
    ["long description", { name: "dev", description: "d".repeat(1025) }, [["description", /at most 1024/]]],
    ["bad label", { name: "dev", labels: { "": "x" } }, [['labels[""]', /must not be empty/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(validateSnapshotVCluster(create(SnapshotVClusterRequestSchema, init)), expected);
  });
});

describe("validateRestoreVCluster", () => {
  it.each<[string, MessageInitShape<typeof RestoreVClusterRequestSchema>, Expected]>([
    ["in place", { name: "dev", snapshotId: "s-1" }, []],
    [
      "into a new vcluster",
      { name: "dev", snapshotId: "s-1", createNew: true, newName: "dev-copy", newNamespace: "other" },
      [],
    ],
    ["missing snapshot id", { name: "dev" }, [["snapshot_id", /is required/]]],
    ["missing name", { snapshotId: "s-1" }, [["name", /is required/]]],
    ["create_new without new_name", { name: "dev", snapshotId: "s-1", createNew: true }, [["new_name", /is required/]]],
    [
      "create_new with bad new_name",
      { name: "dev", snapshotId: "s-1", createNew: true, newName: "a".repeat(54) },
      [["new_name", /at most 53/]],
    ],
    [
      "bad new_namespace",
      { name: "dev", snapshotId: "s-1", createNew: true, newName: "x", newNamespace: "X" },
      [["new_namespace", /DNS-1123/]],
    ],
    [
      "new_name without create_new",
      { name: "dev", snapshotId: "s-1", newName: "x", newNamespace: "y" },
      [
        ["new_name", /only allowed together with create_new/],
        ["new_namespace", /only allowed together with create_new/],
      ],
    ],
  ])("%s", (_, init, expected) => {
    expectViolations(validateRestoreVCluster(create(RestoreVClusterRequestSchema, init)), expected);
  });
});

describe("validateListSnapshots", () => {
  it.each<[string, MessageInitShape<typeof ListSnapshotsRequestSchema>, Expected]>([
    ["empty", {}, []],
    ["filtered", { vclusterName: "dev", namespace: "ns", pageSize: 10, labelSelector: "kind in (nightly)" }, []],
    ["negative page size", { pageSize: -3 }, [["page_size", /must not be negative \(got -3\)/]]],
    ["bad selector", { labelSelector: `kind=${"x".repeat(64)}` }, [["label_selector", /at most 63 characters/]]],
    ["bad vcluster name", { vclusterName: "Dev" }, [["vcluster_name", /DNS-1123/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(validateListSnapshots(create(ListSnapshotsRequestSchema, init)), expected);
  });
});

describe("validateGetSnapshot", () => {
  it.each<[string, MessageInitShape<typeof GetSnapshotRequestSchema>, Expected]>([
    ["by id", { id: "s-1" }, []],
    ["by name", { name: "nightly", namespace: "ns" }, []],
    ["neither", {}, [["id", /required unless name is given/]]],
    ["bad name", { name: "Nightly" }, [["name", /DNS-1123/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(validateGetSnapshot(create(GetSnapshotRequestSchema, init)), expected);
  });
});

describe("validateDeleteSnapshot", () => {
  it.each<[string, MessageInitShape<typeof DeleteSnapshotRequestSchema>, Expected]>([
    ["by id", { id: "s-1", force: true }, []],
    ["missing id", {}, [["id", /is required/]]],
    ["id with control characters", { id: "s\n1" }, [["id", /id returned by the server/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(validateDeleteSnapshot(create(DeleteSnapshotRequestSchema, init)), expected);
  });
});
