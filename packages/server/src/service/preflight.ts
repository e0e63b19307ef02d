import { Code } from "@connectrpc/connect";
import type { VCluster } from "@open-vcluster/api";
import { apiError, failedPrecondition } from "../errors.js";
import { type OperationKind, type PreflightDetails, ProviderPreconditionError } from "../provider/index.js";
import type { ServiceDeps } from "./deps.js";

/**
 * Asks the provider, before anything is stored, whether the host can do `kind` for this
 * vcluster: FAILED_PRECONDITION naming what is missing, UNAVAILABLE when the host could
 * not be asked. Providers without a preflight can do everything.
 */
export async function preflight(
  deps: ServiceDeps,
  kind: OperationKind,
  vcluster: VCluster,
  details?: PreflightDetails,
): Promise<void> {
  if (!deps.provider.preflight) return;
  try {
    await deps.provider.preflight(kind, vcluster, details);
  } catch (error) {
    if (error instanceof ProviderPreconditionError) throw failedPrecondition(error.message);
    const message = error instanceof Error ? error.message : String(error);
    throw apiError(Code.Unavailable, "PROVIDER_UNAVAILABLE", `the host cluster could not be checked: ${message}`, {
      retryDelayMs: 1000,
    });
  }
}
