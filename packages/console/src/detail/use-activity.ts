import { Annotations, type VCluster, type VClusterEvent } from "@open-vcluster/api";
import { useEffect, useState } from "preact/hooks";
import { describeError, type ErrorDescription } from "../api/describe-error.js";
import { useClient } from "../state/client-context.js";
import { useNotifier } from "../state/notifications.js";

/**
 * The vcluster's activity timeline (ListVClusterEvents). Read again whenever the watched
 * vcluster changes, and when one of this page's own actions ends (a refused request changes no
 * vcluster), so it stays live without polling.
 */
export function useActivity(vcluster: VCluster): { events: VClusterEvent[]; error: ErrorDescription | undefined } {
  const client = useClient();
  const { notifications } = useNotifier();
  const [state, setState] = useState<{ events: VClusterEvent[]; error: ErrorDescription | undefined }>({
    events: [],
    error: undefined,
  });
  const version = vcluster.annotations[Annotations.resourceVersion] ?? "";
  const settledActions = notifications.filter((n) => n.kind !== "progress").length;
  useEffect(() => {
    const stop = new AbortController();
    client.vclusters
      .listVClusterEvents({ name: vcluster.name, namespace: vcluster.namespace }, { signal: stop.signal })
      .then(
        (response) => setState({ events: response.events, error: undefined }),
        (error: unknown) => {
          if (!stop.signal.aborted) setState((previous) => ({ ...previous, error: describeError(error) }));
        },
      );
    return () => stop.abort();
  }, [client, vcluster.namespace, vcluster.name, version, settledActions]);
  return state;
}
