import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
  type GetVClusterKubeconfigRequest,
  type GetVClusterKubeconfigResponse,
  GetVClusterKubeconfigResponseSchema,
  type GetVClusterRequest,
  type GetVClusterResponse,
  GetVClusterResponseSchema,
  type ListVClustersRequest,
  type ListVClustersResponse,
  ListVClustersResponseSchema,
  Phase,
  ResponseHeaders,
  type VCluster,
} from "@open-vcluster/api";
import { visibilityFilter } from "../auth/index.js";
import { apiError, failedPrecondition } from "../errors.js";
import { buildKubeconfig } from "../kubeconfig/index.js";
import { ProviderPreconditionError } from "../provider/index.js";
import { copyVCluster, type VClusterCursor, type VClusterOrder, vclusterCursor } from "../store/index.js";
import {
  invalidArgument,
  validateGetVCluster,
  validateGetVClusterKubeconfig,
  validateListVClusters,
} from "../validation/index.js";
import type { PendingOperation } from "./annotations.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { binaryCodec, withEncodedField } from "./encoded-once.js";
import { decodePageToken, effectivePageSize, encodePageToken, queryHash } from "./page-token.js";
import { compileSelector } from "./selector.js";
import { findVisibleVCluster, withoutSecrets } from "./shared.js";
import { requireAllowed } from "./state-machine.js";

/** The provider's kubeconfig when it holds one (a real vcluster's own secret), else one built here. */
async function kubeconfigFor(
  deps: ServiceDeps,
  vcluster: VCluster,
  format: string,
  validityHours: number,
): Promise<{ base64: string; expiresAt: Date | undefined; endpoint: string }> {
  if (deps.provider.kubeconfig) {
    let issued: Awaited<ReturnType<NonNullable<typeof deps.provider.kubeconfig>>>;
    try {
      issued = await deps.provider.kubeconfig(vcluster, format || "default", validityHours);
    } catch (error) {
      if (error instanceof ProviderPreconditionError) throw failedPrecondition(error.message);
      const message = error instanceof Error ? error.message : String(error);
      throw apiError(Code.Unavailable, "PROVIDER_UNAVAILABLE", `the kubeconfig could not be read: ${message}`);
    }
    return {
      base64: Buffer.from(issued.yaml, "utf8").toString("base64"),
      expiresAt: issued.expiresAt,
      endpoint: issued.endpoint,
    };
  }
  const now = deps.clock.now();
  const built = buildKubeconfig({
    vcluster,
    format: (format || "default") as "default" | "exec" | "token",
    now,
    validityHours: validityHours > 0 ? validityHours : 24,
    signingKey: deps.kubeconfigKey,
    authority: deps.certificateAuthority,
  });
  return {
    base64: Buffer.from(built.yaml, "utf8").toString("base64"),
    expiresAt: built.expiresAt,
    endpoint: vcluster.status?.apiServerEndpoint ?? "",
  };
}

export async function getVCluster(
  deps: ServiceDeps,
  req: GetVClusterRequest,
  ctx: HandlerContext,
): Promise<GetVClusterResponse> {
  const violations = validateGetVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  // A peek: nothing here changes the vcluster, and its encoding is shared with other reads.
  const vcluster = await findVisibleVCluster(deps.store, principalOf(ctx), req, { peek: true });
  const result = withoutSecrets(vcluster);
  // Only a running control plane has credentials to hand out; otherwise the field stays empty.
  if (req.includeKubeconfig && vcluster.status?.phase === Phase.RUNNING) {
    const copy = copyVCluster(result);
    if (copy.status) copy.status.kubeconfig = (await kubeconfigFor(deps, vcluster, "default", 0)).base64;
    return create(GetVClusterResponseSchema, { vcluster: copy });
  }
  if (binaryCodec(ctx)) {
    return withEncodedField(create(GetVClusterResponseSchema), GetVClusterResponseSchema.field.vcluster.number, [
      result,
    ]);
  }
  return create(GetVClusterResponseSchema, { vcluster: result });
}

export async function getVClusterKubeconfig(
  deps: ServiceDeps,
  req: GetVClusterKubeconfigRequest,
  ctx: HandlerContext,
): Promise<GetVClusterKubeconfigResponse> {
  const violations = validateGetVClusterKubeconfig(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const { vcluster, running } = await deps.store.read(async (tx) => {
    const found = await findVisibleVCluster(tx, principalOf(ctx), req);
    return { vcluster: found, running: (await tx.getOperation(found.id))?.operation as PendingOperation | undefined };
  });
  requireAllowed("kubeconfig", vcluster, running);
  const { base64, expiresAt, endpoint } = await kubeconfigFor(deps, vcluster, req.format, req.validityHours);
  return create(GetVClusterKubeconfigResponseSchema, {
    kubeconfig: base64,
    apiServerEndpoint: endpoint,
    expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined,
  });
}

export async function listVClusters(
  deps: ServiceDeps,
  req: ListVClustersRequest,
  ctx: HandlerContext,
): Promise<ListVClustersResponse> {
  const violations = validateListVClusters(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const principal = principalOf(ctx);
  const order = (req.orderBy || "name") as VClusterOrder;
  const query = queryHash({
    kind: "vclusters",
    subject: principal.subject,
    namespace: req.namespace,
    selector: req.labelSelector,
    phases: [...req.phases].sort(),
    owner: req.owner,
    project: req.project,
    order,
  });
  const after = req.pageToken ? decodePageToken<VClusterCursor>(deps.pageTokenKey, req.pageToken, query) : undefined;
  const labels = compileSelector(req.labelSelector, "label_selector");
  const visibleTo = visibilityFilter(principal);
  // Read in the same transaction as the page, so no commit falls between the two.
  const { page, version } = await deps.store.read(async (tx) => ({
    version: await tx.currentVersion(),
    // Peeks: a page only sends what it lists, and each row's encoding is shared with other reads.
    page: await tx.peekVClusters(
      {
        ...(req.namespace ? { namespace: req.namespace } : {}),
        ...(req.phases.length > 0 ? { phases: [...req.phases] } : {}),
        ...(req.owner ? { owner: req.owner } : {}),
        ...(req.project ? { project: req.project } : {}),
        ...(visibleTo ? { visibleTo } : {}),
        ...(labels ? { labels } : {}),
      },
      order,
      after,
      effectivePageSize(req.pageSize),
    ),
  }));
  ctx.responseHeader.set(ResponseHeaders.resourceVersion, String(version));
  const last = page.items.at(-1);
  const vclusters = page.items.map(withoutSecrets);
  const response = create(ListVClustersResponseSchema, {
    nextPageToken: page.hasMore && last ? encodePageToken(deps.pageTokenKey, query, vclusterCursor(last)) : "",
    totalCount: page.total,
  });
  if (binaryCodec(ctx))
    return withEncodedField(response, ListVClustersResponseSchema.field.vclusters.number, vclusters);
  response.vclusters = vclusters;
  return response;
}
