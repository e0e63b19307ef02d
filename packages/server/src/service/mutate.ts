import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
  Annotations,
  type DeleteVClusterRequest,
  type DeleteVClusterResponse,
  DeleteVClusterResponseSchema,
  Phase,
  type ResumeVClusterRequest,
  type ResumeVClusterResponse,
  ResumeVClusterResponseSchema,
  type ScaleVClusterRequest,
  type ScaleVClusterResponse,
  ScaleVClusterResponseSchema,
  type UpdateVClusterRequest,
  type UpdateVClusterResponse,
  UpdateVClusterResponseSchema,
} from "@open-vcluster/api";
import { apiError, invalidField } from "../errors.js";
import {
  applySpecDefaults,
  invalidArgument,
  kubernetesUpgradeProblem,
  validateDeleteVCluster,
  validateResumeVCluster,
  validateScaleVCluster,
  validateSpec,
  validateUpdateVCluster,
} from "../validation/index.js";
import { bumpGeneration, PAUSED, pendingOperation, setPendingOperation } from "./annotations.js";
import type { ServiceDeps } from "./deps.js";
import { beginOperation } from "./lifecycle.js";
import { mutateVCluster } from "./mutation.js";
import { phaseName, requirePhase } from "./phases.js";
import { withoutSecrets } from "./read.js";
import { applyUpdateMask } from "./update-mask.js";

/** Seconds workloads get to stop on delete when the request leaves grace_period_seconds at 0. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

export function updateVCluster(
  deps: ServiceDeps,
  req: UpdateVClusterRequest,
  ctx: HandlerContext,
): UpdateVClusterResponse {
  const violations = validateUpdateVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = mutateVCluster(deps, ctx, req, (_tx, vcluster, now) => {
    // Mask problems are request errors, reported before the phase is looked at.
    const update = applyUpdateMaskChecked(vcluster, req);
    if (!update.specChanged) {
      // A labels-only change needs no provider work, so it is allowed in any settled phase.
      requirePhase(vcluster, [Phase.RUNNING, Phase.SUSPENDED, Phase.ERROR], "update labels");
      vcluster.labels = update.labels;
      vcluster.annotations[Annotations.operationId] = deps.newId();
      vcluster.updateTime = timestampFromDate(now);
      return { vcluster };
    }
    requirePhase(vcluster, [Phase.RUNNING, Phase.ERROR], "update");
    vcluster.spec = update.spec;
    vcluster.labels = update.labels;
    bumpGeneration(vcluster);
    const operation = { kind: "update" as const, id: deps.newId() };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation };
  });
  return create(UpdateVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}

function applyUpdateMaskChecked(vcluster: Parameters<typeof applyUpdateMask>[0], req: UpdateVClusterRequest) {
  const update = applyUpdateMask(vcluster, req);
  const merged = applySpecDefaults(update.spec);
  const currentDistro = vcluster.spec?.distro || "k8s";
  if ((merged.distro || "k8s") !== currentDistro) {
    throw invalidField("spec.distro", `is immutable after creation (current "${currentDistro}")`);
  }
  const violations = validateSpec(merged, "spec");
  if (violations.length > 0) throw invalidArgument(violations);
  const from = vcluster.spec?.kubernetesVersion ?? "";
  if (from && merged.kubernetesVersion !== from) {
    const problem = kubernetesUpgradeProblem(from, merged.kubernetesVersion);
    if (problem) {
      throw apiError(Code.FailedPrecondition, "FAILED_PRECONDITION", `spec.kubernetes_version: ${problem}`, {
        field: "spec.kubernetes_version",
        metadata: { from, to: merged.kubernetesVersion },
      });
    }
  }
  return { ...update, spec: merged };
}

export function scaleVCluster(
  deps: ServiceDeps,
  req: ScaleVClusterRequest,
  ctx: HandlerContext,
): ScaleVClusterResponse {
  const violations = validateScaleVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = mutateVCluster(deps, ctx, req, (_tx, vcluster, now) => {
    const spec = applySpecDefaults(vcluster.spec);
    if (req.replicas > 0) spec.replicas = req.replicas;
    if (req.resources) {
      const resources = spec.resources ?? applySpecDefaults(undefined).resources;
      if (resources) {
        for (const [key, value] of Object.entries(req.resources)) {
          if (key !== "$typeName" && typeof value === "string" && value !== "") {
            (resources as unknown as Record<string, string>)[key] = value;
          }
        }
        spec.resources = resources;
      }
    }
    const specViolations = validateSpec(spec, "spec");
    if (specViolations.length > 0) {
      // Report against the scale request's own field names.
      throw invalidArgument(specViolations.map((v) => ({ ...v, field: v.field.replace(/^spec\./, "") })));
    }
    requirePhase(vcluster, [Phase.RUNNING, Phase.ERROR], "scale");
    vcluster.spec = spec;
    bumpGeneration(vcluster);
    const operation = { kind: "scale" as const, id: deps.newId() };
    beginOperation(vcluster, operation, now);
    if (vcluster.status) vcluster.status.totalReplicas = spec.replicas;
    return { vcluster, operation };
  });
  return create(ScaleVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}

export function resumeVCluster(
  deps: ServiceDeps,
  req: ResumeVClusterRequest,
  ctx: HandlerContext,
): ResumeVClusterResponse {
  const violations = validateResumeVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = mutateVCluster(deps, ctx, req, (_tx, vcluster, now) => {
    // A failed resume leaves the vcluster in ERROR but still paused; resuming again is the retry.
    const retryingFailedResume = vcluster.status?.phase === Phase.ERROR && vcluster.annotations[PAUSED] === "true";
    if (!retryingFailedResume) requirePhase(vcluster, [Phase.SUSPENDED], "resume");
    bumpGeneration(vcluster);
    const operation = { kind: "resume" as const, id: deps.newId() };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation };
  });
  return create(ResumeVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}

export function deleteVCluster(
  deps: ServiceDeps,
  req: DeleteVClusterRequest,
  ctx: HandlerContext,
): DeleteVClusterResponse {
  const violations = validateDeleteVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = mutateVCluster(deps, ctx, req, (_tx, vcluster, now) => {
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    if (!req.force) {
      requirePhase(vcluster, [Phase.RUNNING, Phase.SUSPENDED, Phase.ERROR, Phase.PENDING], "delete without force");
    } else if (phase === Phase.DELETING && pendingOperation(vcluster)?.gracePeriodSeconds === 0) {
      throw apiError(
        Code.FailedPrecondition,
        "FAILED_PRECONDITION",
        `vcluster ${vcluster.namespace}/${vcluster.name} is ${phaseName(phase)} already`,
        { metadata: { phase: phaseName(phase) } },
      );
    }
    // A forced delete takes over whatever runs: the running operation's outcome is discarded
    // because the vcluster no longer carries its id.
    setPendingOperation(vcluster, undefined);
    const operation = {
      kind: "delete" as const,
      id: deps.newId(),
      deleteSnapshots: req.deleteSnapshots,
      gracePeriodSeconds: req.force ? 0 : req.gracePeriodSeconds || DEFAULT_GRACE_PERIOD_SECONDS,
    };
    beginOperation(vcluster, operation, now);
    return { vcluster, operation };
  });
  return create(DeleteVClusterResponseSchema, {
    operationId: result.operationId,
    deleteTime: result.vcluster.deleteTime ?? timestampFromDate(deps.clock.now()),
  });
}
