import { Annotations, type Snapshot, type VCluster } from "@open-vcluster/api";
import { useEffect, useState } from "preact/hooks";
import { describeError, type ErrorDescription } from "../api/describe-error.js";
import { useClient } from "../state/client-context.js";

/**
 * The vcluster's snapshots. Snapshot progress shows on the vcluster itself (its phase and
 * last_snapshot), so they are fetched again whenever the watched vcluster changes: live
 * without polling.
 */
export function useSnapshots(vcluster: VCluster): { snapshots: Snapshot[]; error: ErrorDescription | undefined } {
  const client = useClient();
  const [state, setState] = useState<{ snapshots: Snapshot[]; error: ErrorDescription | undefined }>({
    snapshots: [],
    error: undefined,
  });
  const version = vcluster.annotations[Annotations.resourceVersion] ?? "";
  useEffect(() => {
    const stop = new AbortController();
    (async () => {
      const snapshots: Snapshot[] = [];
      const pages = client.paginateSnapshots(
        { namespace: vcluster.namespace, vclusterName: vcluster.name },
        { signal: stop.signal },
      );
      for await (const snapshot of pages) snapshots.push(snapshot);
      return snapshots;
    })().then(
      (snapshots) => setState({ snapshots, error: undefined }),
      (error: unknown) => {
        if (!stop.signal.aborted) setState((previous) => ({ ...previous, error: describeError(error) }));
      },
    );
    return () => stop.abort();
  }, [client, vcluster.namespace, vcluster.name, version]);
  return state;
}
