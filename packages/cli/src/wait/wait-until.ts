import { type VCluster, WatchEventType } from "@open-vcluster/api";
import {
  isNotFound,
  isResourceVersionExpired,
  resourceVersionOf,
  type VClusterApiClient,
  type VClusterRef,
  WaitTimeoutError,
} from "@open-vcluster/core";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { WaitCondition } from "./wait-condition.js";

/**
 * Waits for any condition on one vcluster: reads it, then follows the SDK's resumable watch from
 * the version read, so the wait ends as soon as the server reports the change. Deletion counts
 * as the state `undefined`.
 */
export async function waitUntil(
  client: VClusterApiClient,
  ref: Required<VClusterRef>,
  condition: WaitCondition,
  options: { timeoutMs: number; signal?: AbortSignal; onProgress?: (vcluster: VCluster | undefined) => void },
): Promise<VCluster | undefined> {
  const target = `vcluster ${ref.namespace}/${ref.name} to reach ${condition.description}`;
  const timer = new AbortController();
  let last: VCluster | undefined;
  const timeout = setTimeout(
    () => timer.abort(new WaitTimeoutError(target, options.timeoutMs, last)),
    options.timeoutMs,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  const observe = (vcluster: VCluster | undefined) => {
    last = vcluster;
    options.onProgress?.(vcluster);
    return condition.met(vcluster);
  };
  try {
    for (;;) {
      let current: VCluster | undefined;
      try {
        current = (await client.vclusters.getVCluster(ref, { signal })).vcluster;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isNotFound(error)) throw error;
      }
      if (observe(current)) return current;
      if (!current) throw new CliError(`vcluster ${ref.namespace}/${ref.name} not found`, ExitCode.notFound);
      const watch = client.watch(ref, { resourceVersion: resourceVersionOf(current), signal });
      try {
        for await (const event of watch) {
          if (event.vcluster.id !== current.id) continue;
          const state = event.type === WatchEventType.DELETED ? undefined : event.vcluster;
          if (observe(state)) return state ?? event.vcluster;
          if (!state) throw new CliError(`vcluster ${ref.namespace}/${ref.name} was deleted`, ExitCode.notFound);
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        // The watch fell behind the server's history: read the state again and carry on.
        if (isResourceVersionExpired(error)) continue;
        throw error;
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}
