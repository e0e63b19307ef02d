import {
  type CreateVClusterRequest,
  type DeleteVClusterRequest,
  type GetVClusterKubeconfigRequest,
  type GetVClusterRequest,
  type ListVClustersRequest,
  Phase,
  type ResumeVClusterRequest,
  type ScaleVClusterRequest,
  type SuspendVClusterRequest,
  type UpdateVClusterRequest,
  type WatchVClusterRequest,
} from "@open-vcluster/api";
import { validateLabels } from "@open-vcluster/core";
import { type FieldViolation, quote } from "./field-violation.js";
import { MAX_VCLUSTER_NAME_LENGTH } from "./names.js";
import {
  checkId,
  checkLabelSelector,
  checkOptionalName,
  checkPageSize,
  checkRequiredName,
  checkSeconds,
} from "./request-fields.js";
import { validateResources } from "./resources.js";
import { MAX_REPLICAS, MIN_REPLICAS, validateSpec } from "./spec.js";

export const VCLUSTER_ORDERS: readonly string[] = ["", "name", "create_time", "-create_time"];
export const KUBECONFIG_FORMATS: readonly string[] = ["", "default", "exec", "token"];
export const MAX_KUBECONFIG_VALIDITY_HOURS = 720;
const MAX_REQUEST_ID_LENGTH = 128;

/** The name + namespace pair that addresses one vcluster. */
function checkVClusterRef(req: { name: string; namespace: string }, violations: FieldViolation[]): void {
  checkRequiredName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
  checkOptionalName(req.namespace, "namespace", violations);
}

export function validateCreateVCluster(req: CreateVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  if (req.spec) violations.push(...validateSpec(req.spec, "spec"));
  violations.push(...validateLabels(req.labels, "labels"));
  if (req.requestId.length > MAX_REQUEST_ID_LENGTH || /[\s\p{Cc}]/u.test(req.requestId)) {
    violations.push({
      field: "request_id",
      description: `must be at most ${MAX_REQUEST_ID_LENGTH} characters without whitespace (a UUID is recommended)`,
    });
  }
  checkSeconds(req.timeoutSeconds, "timeout_seconds", violations);
  return violations;
}

export function validateGetVCluster(req: GetVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (req.id !== "") {
    checkId(req.id, "id", violations, true);
    checkOptionalName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
    checkOptionalName(req.namespace, "namespace", violations);
  } else {
    if (req.name === "") {
      violations.push({ field: "name", description: "is required when id is empty" });
    } else {
      checkOptionalName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
    }
    checkOptionalName(req.namespace, "namespace", violations);
  }
  return violations;
}

export function validateListVClusters(req: ListVClustersRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkOptionalName(req.namespace, "namespace", violations);
  checkPageSize(req.pageSize, "page_size", violations);
  checkLabelSelector(req.labelSelector, "label_selector", violations);
  for (const [i, phase] of req.phases.entries()) {
    if (phase === Phase.UNSPECIFIED || Phase[phase] === undefined) {
      violations.push({
        field: `phases[${i}]`,
        description: `must be a defined phase other than PHASE_UNSPECIFIED (got ${phase})`,
      });
    }
  }
  if (!VCLUSTER_ORDERS.includes(req.orderBy)) {
    violations.push({
      field: "order_by",
      description: `must be "name", "create_time" or "-create_time" (got ${quote(req.orderBy)})`,
    });
  }
  return violations;
}

/**
 * Checks the update's own fields. Rules that relate fields to each other wait for the spec merged by
 * update_mask, which the service checks with validateSpec.
 */
export function validateUpdateVCluster(req: UpdateVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  if (req.spec) violations.push(...validateSpec(req.spec, "spec", { partial: true }));
  violations.push(...validateLabels(req.labels, "labels"));
  return violations;
}

export function validateDeleteVCluster(req: DeleteVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  checkSeconds(req.gracePeriodSeconds, "grace_period_seconds", violations);
  return violations;
}

export function validateScaleVCluster(req: ScaleVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  violations.push(...validateResources(req.resources, "resources"));
  if (req.replicas !== 0 && (req.replicas < MIN_REPLICAS || req.replicas > MAX_REPLICAS)) {
    violations.push({
      field: "replicas",
      description: `must be between ${MIN_REPLICAS} and ${MAX_REPLICAS}, or 0 to keep the current count (got ${req.replicas})`,
    });
  }
  const resources = req.resources;
  const changesResources =
    resources !== undefined &&
    [
      resources.cpuRequest,
      resources.cpuLimit,
      resources.memoryRequest,
      resources.memoryLimit,
      resources.ephemeralStorageRequest,
      resources.ephemeralStorageLimit,
    ].some((value) => value !== "");
  if (req.replicas === 0 && !changesResources) {
    violations.push({ field: "replicas", description: "set replicas or resources; the request changes nothing" });
  }
  return violations;
}

export function validateSuspendVCluster(req: SuspendVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  checkSeconds(req.drainTimeoutSeconds, "drain_timeout_seconds", violations);
  if (req.snapshotName !== "") {
    if (!req.createSnapshot) {
      violations.push({ field: "snapshot_name", description: "is only allowed together with create_snapshot" });
    } else {
      checkOptionalName(req.snapshotName, "snapshot_name", violations);
    }
  }
  return violations;
}

export function validateResumeVCluster(req: ResumeVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  return violations;
}

export function validateGetVClusterKubeconfig(req: GetVClusterKubeconfigRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkVClusterRef(req, violations);
  if (!KUBECONFIG_FORMATS.includes(req.format)) {
    violations.push({
      field: "format",
      description: `must be "default", "exec" or "token" (got ${quote(req.format)})`,
    });
  }
  if (req.validityHours < 0 || req.validityHours > MAX_KUBECONFIG_VALIDITY_HOURS) {
    violations.push({
      field: "validity_hours",
      description: `must be between 0 (the default, 24) and ${MAX_KUBECONFIG_VALIDITY_HOURS} (got ${req.validityHours})`,
    });
  }
  return violations;
}

export function validateWatchVCluster(req: WatchVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkOptionalName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
  checkOptionalName(req.namespace, "namespace", violations);
  checkLabelSelector(req.labelSelector, "label_selector", violations);
  if (req.resourceVersion !== "" && !/^(0|[1-9]\d{0,15})$/.test(req.resourceVersion)) {
    violations.push({
      field: "resource_version",
      description: `must be a resource version returned by the server, a decimal number (got ${quote(req.resourceVersion)})`,
    });
  }
  return violations;
}
