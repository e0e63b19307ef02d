import { Code } from "@connectrpc/connect";
import { Phase, type VCluster, WatchEventType } from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import { apiError } from "../errors.js";
import type { Store } from "../store/index.js";

/**
 * Waits until the vcluster leaves its transitional phase for RUNNING, ERROR or disappears.
 * Driven by store commits (no polling). Times out with DEADLINE_EXCEEDED, leaving the
 * vcluster as it is: the work goes on in the background.
 */
export async function waitUntilSettled(
  store: Store,
  clock: Clock,
  id: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<VCluster | undefined> {
  const settled = (v: VCluster | undefined) =>
    v === undefined || v.status?.phase === Phase.RUNNING || v.status?.phase === Phase.ERROR;
  const timer = new AbortController();
  const onCallerAbort = () => timer.abort();
  signal.addEventListener("abort", onCallerAbort, { once: true });
  let unsubscribe = () => {};
  try {
    return await new Promise<VCluster | undefined>((resolve, reject) => {
      // Subscribed before the first read, so a change committed in between is not missed.
      const check = () =>
        store.getVClusterById(id).then((current) => {
          if (settled(current)) {
            unsubscribe();
            resolve(current);
          }
        }, reject);
      unsubscribe = store.subscribe(
        (events) => {
          for (const event of events) {
            if (event.vcluster.id !== id) continue;
            const current = event.type === WatchEventType.DELETED ? undefined : event.vcluster;
            if (settled(current)) {
              unsubscribe();
              resolve(current);
              return;
            }
          }
        },
        // Events were lost to this replica: the change may be among them, so look again.
        () => void check(),
      );
      void check();
      clock.sleep(timeoutMs, timer.signal).then(
        () => {
          unsubscribe();
          reject(timeoutError(id, timeoutMs));
        },
        () => {
          unsubscribe();
          reject(timeoutError(id, timeoutMs));
        },
      );
    });
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onCallerAbort);
    timer.abort();
  }
}

function timeoutError(id: string, timeoutMs: number) {
  return apiError(
    Code.DeadlineExceeded,
    "DEADLINE_EXCEEDED",
    `vcluster ${id} was not ready within ${Math.round(timeoutMs / 1000)}s; it keeps being created`,
    { metadata: { id } },
  );
}
