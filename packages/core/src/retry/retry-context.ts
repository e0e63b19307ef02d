import { createContextKey } from "@connectrpc/connect";

/**
 * Marks one call as safe to repeat although its method is not declared free of side effects
 * (e.g. opening a watch stream). Set it through the call's `contextValues`.
 */
export const retrySafeKey = createContextKey<boolean>(false, { description: "open-vcluster: call is safe to retry" });
