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
import { bumpGeneration, PAUSED } from "./annotations.js";
import type { ServiceDeps } from "./deps.js";
import { mutateVCluster } from "./mutation.js";
import { withoutSecrets } from "./shared.js";
import { phaseName, requireAllowed } from "./state-machine.js";
import { applyUpdateMask } from "./update-mask.js";

/** Seconds workloads get to stop on delete when the request leaves grace_period_seconds at 0. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

export async function updateVCluster(
  deps: ServiceDeps,
  req: UpdateVClusterRequest,
  ctx: HandlerContext,
): Promise<UpdateVClusterResponse> {
  const violations = validateUpdateVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = await mutateVCluster(deps, ctx, req, ({ vcluster, running, now }) => {
    // Mask problems are request errors, reported before the phase is looked at.
    const update = applyUpdateMaskChecked(vcluster, req);
    if (!update.specChanged) {
      // A labels-only change needs no provider work, so it is allowed in any settled phase.
      requireAllowed("updateLabels", vcluster, running);
      vcluster.labels = update.labels;
      vcluster.annotations[Annotations.operationId] = deps.newId();
      vcluster.updateTime = timestampFromDate(now);
      return { write: true };
    }
    requireAllowed("update", vcluster, running);
    vcluster.spec = update.spec;
    vcluster.labels = update.labels;
    bumpGeneration(vcluster);
    return { operation: { kind: "update" as const, id: deps.newId() } };
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

export async function scaleVCluster(
  deps: ServiceDeps,
  req: ScaleVClusterRequest,
  ctx: HandlerContext,
): Promise<ScaleVClusterResponse> {
  const violations = validateScaleVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = await mutateVCluster(deps, ctx, req, ({ vcluster, running }) => {
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
    requireAllowed("scale", vcluster, running);
    vcluster.spec = spec;
    bumpGeneration(vcluster);
    if (vcluster.status) vcluster.status.totalReplicas = spec.replicas;
    return { operation: { kind: "scale" as const, id: deps.newId() } };
  });
  return create(ScaleVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}

export async function resumeVCluster(
  deps: ServiceDeps,
  req: ResumeVClusterRequest,
  ctx: HandlerContext,
): Promise<ResumeVClusterResponse> {
  const violations = validateResumeVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = await mutateVCluster(deps, ctx, req, ({ vcluster, running }) => {
    // A failed resume leaves the vcluster in ERROR but still paused; resuming again is the retry.
    const retryingFailedResume =
      vcluster.status?.phase === Phase.ERROR && vcluster.annotations[PAUSED] === "true" && !running;
    if (!retryingFailedResume) requireAllowed("resume", vcluster, running);
    bumpGeneration(vcluster);
    return { operation: { kind: "resume" as const, id: deps.newId() } };
  });
  return create(ResumeVClusterResponseSchema, {
    vcluster: withoutSecrets(result.vcluster),
    operationId: result.operationId,
  });
}

export async function deleteVCluster(
  deps: ServiceDeps,
  req: DeleteVClusterRequest,
  ctx: HandlerContext,
): Promise<DeleteVClusterResponse> {
  const violations = validateDeleteVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const result = await mutateVCluster(deps, ctx, req, ({ vcluster, running }) => {
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    // A waiting create has no work under way yet: deleting it just takes it out of the queue.
    const waitingCreate = phase === Phase.PENDING && running?.kind === "create";
    if (!req.force) {
      requireAllowed("delete", vcluster, waitingCreate ? undefined : running);
    } else if (phase === Phase.DELETING && running?.gracePeriodSeconds === 0) {
      throw apiError(
        Code.FailedPrecondition,
        "FAILED_PRECONDITION",
        `vcluster ${vcluster.namespace}/${vcluster.name} is ${phaseName(phase)} already`,
        { metadata: { phase: phaseName(phase) } },
      );
    }
    // A forced delete takes over whatever runs: the running operation's outcome is discarded
    // because its record is replaced by the delete's.
    const operation = {
      kind: "delete" as const,
      id: deps.newId(),
      deleteSnapshots: req.deleteSnapshots,
      gracePeriodSeconds: req.force ? 0 : req.gracePeriodSeconds || DEFAULT_GRACE_PERIOD_SECONDS,
    };
    return { operation };
  });
  return create(DeleteVClusterResponseSchema, {
    operationId: result.operationId,
    deleteTime: result.vcluster.deleteTime ?? timestampFromDate(deps.clock.now()),
  });
}
