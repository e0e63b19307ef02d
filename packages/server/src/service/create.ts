import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
  type CreateVClusterRequest,
  type CreateVClusterResponse,
  CreateVClusterResponseSchema,
  VClusterSchema,
} from "@open-vcluster/api";
import { projectForCreate } from "../auth/index.js";
import { apiError } from "../errors.js";
import { NameConflictError } from "../store/index.js";
import { applySpecDefaults, invalidArgument, validateCreateVCluster, validateSpec } from "../validation/index.js";
import type { PendingOperation } from "./annotations.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { createFingerprint, IDEMPOTENCY_RETENTION_MS, idempotencyKey } from "./idempotency.js";
import { newVCluster } from "./lifecycle.js";
import { preflight } from "./preflight.js";
import { alreadyExists, namespaceOrDefault, retryOnConflict } from "./shared.js";
import { waitUntilSettled } from "./wait.js";

export async function createVCluster(
  deps: ServiceDeps,
  req: CreateVClusterRequest,
  ctx: HandlerContext,
): Promise<CreateVClusterResponse> {
  const violations = validateCreateVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const principal = principalOf(ctx);
  // Permission first: the project decides whether the caller may create at all, before the
  // name's existence is looked at.
  const placement = projectForCreate(principal, req.labels);
  if ("denied" in placement) {
    throw apiError(Code.PermissionDenied, "PERMISSION_DENIED", placement.denied, {
      field: `labels["open-vcluster.io/project"]`,
    });
  }
  const spec = applySpecDefaults(req.spec);
  const specViolations = validateSpec(spec, "spec");
  if (specViolations.length > 0) throw invalidArgument(specViolations);

  const namespace = namespaceOrDefault(req.namespace);
  // Nothing is stored when the host refuses (e.g. a release of that name is already there).
  if (!(await deps.store.getVCluster(namespace, req.name))) {
    await preflight(deps, "create", create(VClusterSchema, { name: req.name, namespace, spec, labels: req.labels }));
  }
  const key = req.requestId ? idempotencyKey(principal.subject, req.requestId) : undefined;
  const fingerprint = key ? createFingerprint(req) : "";
  const now = deps.clock.now();

  const outcome = await retryOnConflict(() =>
    deps.store.transaction(async (tx) => {
      const replay = async () => {
        if (!key) return undefined;
        const previous = await tx.getIdempotency(key);
        if (!previous || previous.createTime.getTime() <= now.getTime() - IDEMPOTENCY_RETENTION_MS) return undefined;
        if (previous.fingerprint !== fingerprint) {
          throw apiError(
            Code.AlreadyExists,
            "REQUEST_ID_REUSED",
            `request_id: ${req.requestId} was already used with a different request`,
            { field: "request_id" },
          );
        }
        return { response: fromBinary(CreateVClusterResponseSchema, previous.response), replayed: true as const };
      };
      // The same request through another replica at the same moment: whichever committed first
      // holds the name, and the other answers with its response (read again: it committed since).
      const taken = async () => {
        const first = await replay();
        if (first) return first;
        throw alreadyExists(namespace, req.name);
      };
      const earlier = await replay();
      if (earlier) return earlier;
      if (await tx.getVCluster(namespace, req.name)) return taken();
      const operation: PendingOperation = { kind: "create", id: deps.newId() };
      const waiting = await deps.operations.mustWaitForCapacity(tx);
      let stored: Awaited<ReturnType<typeof tx.putVCluster>>;
      try {
        stored = await tx.putVCluster(
          newVCluster({
            id: deps.newId(),
            name: req.name,
            namespace,
            spec,
            labels: req.labels,
            owner: principal.subject,
            project: placement.project,
            now,
            operation,
            pending: waiting,
          }),
          0,
        );
      } catch (error) {
        if (error instanceof NameConflictError) return taken();
        throw error;
      }
      await tx.putOperation(stored.id, { ...operation }, waiting ? { waiting: true } : deps.operations.lease());
      const response = create(CreateVClusterResponseSchema, { vcluster: stored, operationId: operation.id });
      if (key) {
        await tx.putIdempotency({
          key,
          fingerprint,
          response: toBinary(CreateVClusterResponseSchema, response),
          createTime: now,
        });
      }
      return { response, replayed: false, operation, waiting };
    }),
  );

  const vclusterId = outcome.response.vcluster?.id ?? "";
  if (!outcome.replayed && "operation" in outcome && outcome.operation) {
    if (outcome.waiting) deps.operations.claimSoon();
    else deps.operations.start(vclusterId, outcome.operation);
  }
  if (!req.waitForReady) return outcome.response;

  const requested = (req.timeoutSeconds > 0 ? req.timeoutSeconds : deps.limits.defaultWaitSeconds) * 1000;
  const callerBudget = ctx.timeoutMs();
  const timeoutMs = callerBudget === undefined ? requested : Math.min(requested, callerBudget);
  const settled = await waitUntilSettled(deps.store, deps.clock, vclusterId, timeoutMs, ctx.signal);
  return create(CreateVClusterResponseSchema, {
    vcluster: settled ?? outcome.response.vcluster,
    operationId: outcome.response.operationId,
  });
}
