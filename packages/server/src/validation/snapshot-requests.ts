import type {
  DeleteSnapshotRequest,
  GetSnapshotRequest,
  ListSnapshotsRequest,
  RestoreVClusterRequest,
  SnapshotVClusterRequest,
} from "@open-vcluster/api";
import { validateLabels } from "@open-vcluster/core";
import type { FieldViolation } from "./field-violation.js";
import { MAX_VCLUSTER_NAME_LENGTH } from "./names.js";
import { checkId, checkLabelSelector, checkOptionalName, checkPageSize, checkRequiredName } from "./request-fields.js";

/** Ten years: long enough for any real retention policy, short enough to stay a sane timestamp. */
export const MAX_SNAPSHOT_RETENTION_HOURS = 87_600;
export const MAX_SNAPSHOT_DESCRIPTION_LENGTH = 1024;

export function validateSnapshotVCluster(req: SnapshotVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkRequiredName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
  checkOptionalName(req.namespace, "namespace", violations);
  checkOptionalName(req.snapshotName, "snapshot_name", violations);
  if (req.description.length > MAX_SNAPSHOT_DESCRIPTION_LENGTH) {
    violations.push({
      field: "description",
      description: `must be at most ${MAX_SNAPSHOT_DESCRIPTION_LENGTH} characters (got ${req.description.length})`,
    });
  }
  if (req.retentionHours < 0 || req.retentionHours > MAX_SNAPSHOT_RETENTION_HOURS) {
    violations.push({
      field: "retention_hours",
      description: `must be between 0 (keep indefinitely) and ${MAX_SNAPSHOT_RETENTION_HOURS} (got ${req.retentionHours})`,
    });
  }
  violations.push(...validateLabels(req.labels, "labels"));
  return violations;
}

export function validateRestoreVCluster(req: RestoreVClusterRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkRequiredName(req.name, "name", violations, MAX_VCLUSTER_NAME_LENGTH);
  checkOptionalName(req.namespace, "namespace", violations);
  checkId(req.snapshotId, "snapshot_id", violations, true);
  if (req.createNew) {
    checkRequiredName(req.newName, "new_name", violations, MAX_VCLUSTER_NAME_LENGTH);
    checkOptionalName(req.newNamespace, "new_namespace", violations);
  } else {
    if (req.newName !== "") {
      violations.push({ field: "new_name", description: "is only allowed together with create_new" });
    }
    if (req.newNamespace !== "") {
      violations.push({ field: "new_namespace", description: "is only allowed together with create_new" });
    }
  }
  return violations;
}

export function validateListSnapshots(req: ListSnapshotsRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkOptionalName(req.vclusterName, "vcluster_name", violations, MAX_VCLUSTER_NAME_LENGTH);
  checkOptionalName(req.namespace, "namespace", violations);
  checkPageSize(req.pageSize, "page_size", violations);
  checkLabelSelector(req.labelSelector, "label_selector", violations);
  return violations;
}

export function validateGetSnapshot(req: GetSnapshotRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (req.id !== "") {
    checkId(req.id, "id", violations, true);
    checkOptionalName(req.name, "name", violations);
  } else if (req.name === "") {
    violations.push({ field: "id", description: "is required unless name is given" });
  } else {
    checkOptionalName(req.name, "name", violations);
  }
  checkOptionalName(req.namespace, "namespace", violations);
  return violations;
}

export function validateDeleteSnapshot(req: DeleteSnapshotRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  checkId(req.id, "id", violations, true);
  return violations;
}
