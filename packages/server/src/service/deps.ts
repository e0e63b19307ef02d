import type { HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Activity } from "../activity/index.js";
import { type Principal, principalKey } from "../auth/index.js";
import type { Clock } from "../clock.js";
import type { CertificateAuthority } from "../kubeconfig/index.js";
import type { Provider } from "../provider/index.js";
import type { Store } from "../store/index.js";
import type { OperationRunner } from "./operations.js";
import type { WatchHub } from "./watch-hub.js";

export interface ServiceLimits {
  /** Seconds CreateVCluster with wait_for_ready waits when timeout_seconds is 0. */
  defaultWaitSeconds: number;
  heartbeatIntervalMs: number;
  maxWatchersPerPrincipal: number;
  /** Events a watcher may have queued before it is ended with RESOURCE_EXHAUSTED. */
  watchQueueLimit: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  defaultWaitSeconds: 300,
  heartbeatIntervalMs: 5000,
  maxWatchersPerPrincipal: 100,
  watchQueueLimit: 1000,
};

/** Everything the handlers need; built once per server by createApiServer. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  operations: OperationRunner;
  /** Asked before accepting work it may refuse, and for kubeconfigs it holds. */
  provider: Provider;
  watchHub: WatchHub;
  /** The timeline of each vcluster (ListVClusterEvents). */
  activity: Activity;
  limits: ServiceLimits;
  /** Signs page tokens (HMAC-SHA256). */
  pageTokenKey: Uint8Array;
  /** Signs kubeconfig tokens. */
  kubeconfigKey: Uint8Array;
  /** Issues the certificates of kubeconfigs; its key is derived from the root secret. */
  certificateAuthority: CertificateAuthority;
  newId(): string;
}

export function principalOf(ctx: HandlerContext): Principal {
  return ctx.values.get(principalKey);
}
