import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CreateVClusterRequestSchema,
  DeleteVClusterRequestSchema,
  GetVClusterKubeconfigRequestSchema,
  GetVClusterRequestSchema,
  ListVClustersRequestSchema,
  Phase,
  ResumeVClusterRequestSchema,
  ScaleVClusterRequestSchema,
  SuspendVClusterRequestSchema,
  UpdateVClusterRequestSchema,
  WatchVClusterRequestSchema,
} from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import type { FieldViolation } from "./field-violation.js";
import {
  validateCreateVCluster,
  validateDeleteVCluster,
  validateGetVCluster,
  validateGetVClusterKubeconfig,
  validateListVClusters,
  validateResumeVCluster,
  validateScaleVCluster,
  validateSuspendVCluster,
  validateUpdateVCluster,
  validateWatchVCluster,
} from "./vcluster-requests.js";

/** A validator bound to its request schema, so table rows can be plain init objects. */
function check<D extends DescMessage>(schema: D, validate: (req: never) => FieldViolation[]) {
  return (init: MessageInitShape<D>) => (validate as (req: unknown) => FieldViolation[])(create(schema, init));
}

type Case = [string, FieldViolation[] | [string, RegExp][]];

function expectViolations(violations: FieldViolation[], expected: Case[1]): void {
  if (expected.length === 0) {
    expect(violations).toEqual([]);
    return;
  }
  expect(violations.map((v) => v.field)).toEqual(expected.map((e) => ("field" in e ? e.field : e[0])));
  for (const [i, e] of expected.entries()) {
    const description = violations[i]?.description;
    if ("field" in e) expect(description).toBe(e.description);
    else expect(description).toMatch(e[1]);
  }
}

const LONG_NAME = "a".repeat(54);

describe("validateCreateVCluster", () => {
  const run = check(CreateVClusterRequestSchema, validateCreateVCluster);
  it.each<[string, MessageInitShape<typeof CreateVClusterRequestSchema>, Case[1]]>([
    ["minimal", { name: "dev" }, []],
    [
      "full",
      {
        name: "dev",
        namespace: "team-a",
        labels: { app: "x" },
        requestId: "7c9e",
        timeoutSeconds: 600,
        spec: { replicas: 1 },
      },
      [],
    ],
    ["53-char name", { name: "a".repeat(53) }, []],
    ["missing name", {}, [{ field: "name", description: "is required" }]],
    ["54-char name", { name: LONG_NAME }, [["name", /at most 53 characters \(got 54\)/]]],
    ["uppercase name", { name: "Dev" }, [["name", /DNS-1123 label/]]],
    ["name with dot", { name: "dev.1" }, [["name", /DNS-1123 label/]]],
    ["bad namespace", { name: "dev", namespace: "Team_A" }, [["namespace", /DNS-1123 label/]]],
    ["64-char namespace", { name: "dev", namespace: "n".repeat(64) }, [["namespace", /at most 63/]]],
    ["bad label", { name: "dev", labels: { app: "-x" } }, [['labels["app"]', /label value "-x"/]]],
    [
      "bad spec",
      { name: "dev", spec: { resources: { cpuRequest: "x" } } },
      [["spec.resources.cpu_request", /invalid quantity/]],
    ],
    ["request id with spaces", { name: "dev", requestId: "a b" }, [["request_id", /without whitespace/]]],
    ["request id too long", { name: "dev", requestId: "r".repeat(129) }, [["request_id", /at most 128/]]],
    [
      "negative timeout",
      { name: "dev", timeoutSeconds: -1 },
      [["timeout_seconds", /between 0 and 3600 seconds \(got -1\)/]],
    ],
    ["timeout too long", { name: "dev", timeoutSeconds: 3601 }, [["timeout_seconds", /got 3601/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateGetVCluster", () => {
  const run = check(GetVClusterRequestSchema, validateGetVCluster);
  it.each<[string, MessageInitShape<typeof GetVClusterRequestSchema>, Case[1]]>([
    ["by name", { name: "dev" }, []],
    ["by name and namespace", { name: "dev", namespace: "team-a" }, []],
    ["by id", { id: "3f0b8c1e-5a0e-4c8e-9b1a-1d2e3f4a5b6c" }, []],
    ["neither", {}, [["name", /required when id is empty/]]],
    ["namespace only", { namespace: "team-a" }, [["name", /required when id is empty/]]],
    ["id with whitespace", { id: "a b" }, [["id", /id returned by the server/]]],
    ["id and bad name", { id: "x", name: "BAD" }, [["name", /DNS-1123/]]],
    ["bad namespace", { name: "dev", namespace: "-x" }, [["namespace", /DNS-1123/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateListVClusters", () => {
  const run = check(ListVClustersRequestSchema, validateListVClusters);
  it.each<[string, MessageInitShape<typeof ListVClustersRequestSchema>, Case[1]]>([
    ["empty", {}, []],
    [
      "everything set",
      {
        namespace: "team-a",
        pageSize: 2000,
        labelSelector: "env=prod,tier in (web)",
        phases: [Phase.RUNNING, Phase.PENDING],
        orderBy: "-create_time",
      },
      [],
    ],
    ["order by name", { orderBy: "name" }, []],
    ["order by create_time", { orderBy: "create_time" }, []],
    ["negative page size", { pageSize: -1 }, [{ field: "page_size", description: "must not be negative (got -1)" }]],
    [
      "bad selector",
      { labelSelector: "env in ()" },
      [["label_selector", /values for "in" must not be empty at offset 8/]],
    ],
    [
      "unspecified phase",
      { phases: [Phase.RUNNING, Phase.UNSPECIFIED] },
      [["phases[1]", /PHASE_UNSPECIFIED \(got 0\)/]],
    ],
    ["undefined phase", { phases: [99 as Phase] }, [["phases[0]", /defined phase .*\(got 99\)/]]],
    ["bad order", { orderBy: "size" }, [["order_by", /"name", "create_time" or "-create_time" \(got "size"\)/]]],
    ["bad namespace", { namespace: "A" }, [["namespace", /DNS-1123/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateUpdateVCluster", () => {
  const run = check(UpdateVClusterRequestSchema, validateUpdateVCluster);
  it.each<[string, MessageInitShape<typeof UpdateVClusterRequestSchema>, Case[1]]>([
    ["labels only", { name: "dev", labels: { env: "prod" } }, []],
    // Replicas 3 alone is fine here: whether etcd is configured is known only after merging with the stored spec.
    ["replicas only", { name: "dev", spec: { replicas: 3 }, updateMask: { paths: ["spec.replicas"] } }, []],
    ["missing name", { labels: { env: "prod" } }, [["name", /is required/]]],
    ["bad replicas", { name: "dev", spec: { replicas: 10 } }, [["spec.replicas", /between 1 and 9/]]],
    ["bad distro", { name: "dev", spec: { distro: "k3s" } }, [["spec.distro", /supports only "k8s"/]]],
    ["bad label key", { name: "dev", labels: { "a/b/c": "x" } }, [['labels["a/b/c"]', /at most one '\/'/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateDeleteVCluster", () => {
  const run = check(DeleteVClusterRequestSchema, validateDeleteVCluster);
  it.each<[string, MessageInitShape<typeof DeleteVClusterRequestSchema>, Case[1]]>([
    ["plain", { name: "dev", force: true, deleteSnapshots: true, gracePeriodSeconds: 3600 }, []],
    ["missing name", {}, [["name", /is required/]]],
    ["negative grace", { name: "dev", gracePeriodSeconds: -5 }, [["grace_period_seconds", /between 0 and 3600/]]],
    ["grace too long", { name: "dev", gracePeriodSeconds: 7200 }, [["grace_period_seconds", /got 7200/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateScaleVCluster", () => {
  const run = check(ScaleVClusterRequestSchema, validateScaleVCluster);
  it.each<[string, MessageInitShape<typeof ScaleVClusterRequestSchema>, Case[1]]>([
    ["replicas", { name: "dev", replicas: 3 }, []],
    ["resources", { name: "dev", resources: { cpuLimit: "4" } }, []],
    ["nothing to change", { name: "dev" }, [["replicas", /changes nothing/]]],
    ["empty resources", { name: "dev", resources: {} }, [["replicas", /changes nothing/]]],
    ["too many replicas", { name: "dev", replicas: 10 }, [["replicas", /between 1 and 9, or 0 to keep .*got 10/]]],
    ["negative replicas", { name: "dev", replicas: -2 }, [["replicas", /got -2/]]],
    [
      "bad quantity",
      { name: "dev", resources: { memoryLimit: "4GB" } },
      [["resources.memory_limit", /invalid quantity/]],
    ],
    [
      "limit below request",
      { name: "dev", resources: { memoryRequest: "4Gi", memoryLimit: "2Gi" } },
      [["resources.memory_limit", /greater than or equal to memory_request \(2Gi < 4Gi\)/]],
    ],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateSuspendVCluster", () => {
  const run = check(SuspendVClusterRequestSchema, validateSuspendVCluster);
  it.each<[string, MessageInitShape<typeof SuspendVClusterRequestSchema>, Case[1]]>([
    ["plain", { name: "dev" }, []],
    [
      "with snapshot",
      {
        name: "dev",
        createSnapshot: true,
        snapshotName: "before-suspend",
        drainWorkloads: true,
        drainTimeoutSeconds: 60,
      },
      [],
    ],
    [
      "drain timeout negative",
      { name: "dev", drainTimeoutSeconds: -1 },
      [["drain_timeout_seconds", /between 0 and 3600/]],
    ],
    ["drain timeout too long", { name: "dev", drainTimeoutSeconds: 3601 }, [["drain_timeout_seconds", /got 3601/]]],
    [
      "snapshot name without snapshot",
      { name: "dev", snapshotName: "x" },
      [["snapshot_name", /only allowed together with create_snapshot/]],
    ],
    [
      "bad snapshot name",
      { name: "dev", createSnapshot: true, snapshotName: "Before" },
      [["snapshot_name", /DNS-1123 label/]],
    ],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateResumeVCluster", () => {
  const run = check(ResumeVClusterRequestSchema, validateResumeVCluster);
  it.each<[string, MessageInitShape<typeof ResumeVClusterRequestSchema>, Case[1]]>([
    ["plain", { name: "dev", reconcileWorkloads: true }, []],
    ["missing name", {}, [["name", /is required/]]],
    ["bad namespace", { name: "dev", namespace: "x_y" }, [["namespace", /DNS-1123/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateGetVClusterKubeconfig", () => {
  const run = check(GetVClusterKubeconfigRequestSchema, validateGetVClusterKubeconfig);
  it.each<[string, MessageInitShape<typeof GetVClusterKubeconfigRequestSchema>, Case[1]]>([
    ["default", { name: "dev" }, []],
    ["named default", { name: "dev", format: "default" }, []],
    ["exec", { name: "dev", format: "exec" }, []],
    ["token for 720h", { name: "dev", format: "token", validityHours: 720 }, []],
    ["unknown format", { name: "dev", format: "oidc" }, [["format", /"default", "exec" or "token" \(got "oidc"\)/]]],
    [
      "validity too long",
      { name: "dev", format: "token", validityHours: 721 },
      [["validity_hours", /between 0 .* and 720 \(got 721\)/]],
    ],
    ["negative validity", { name: "dev", format: "token", validityHours: -1 }, [["validity_hours", /got -1/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});

describe("validateWatchVCluster", () => {
  const run = check(WatchVClusterRequestSchema, validateWatchVCluster);
  it.each<[string, MessageInitShape<typeof WatchVClusterRequestSchema>, Case[1]]>([
    ["everything", {}, []],
    [
      "one vcluster from a version",
      { name: "dev", namespace: "default", resourceVersion: "42", labelSelector: "!legacy" },
      [],
    ],
    ["version zero", { resourceVersion: "0" }, []],
    ["non-numeric version", { resourceVersion: "abc" }, [["resource_version", /decimal number \(got "abc"\)/]]],
    ["negative version", { resourceVersion: "-1" }, [["resource_version", /decimal number/]]],
    ["bad selector", { labelSelector: "a b" }, [["label_selector", /expected an operator/]]],
    ["bad name", { name: LONG_NAME }, [["name", /at most 53/]]],
  ])("%s", (_, init, expected) => {
    expectViolations(run(init), expected);
  });
});
