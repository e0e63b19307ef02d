import { Annotations, type UsageSample, type VCluster } from "@open-vcluster/api";
import { useEffect, useState } from "preact/hooks";
import { describeError, type ErrorDescription } from "../api/describe-error.js";
import { useClient } from "../state/client-context.js";

/**
 * The vcluster's usage history (ListVClusterUsage). The server samples usage only when a
 * committed change alters it, so reading again whenever the watched vcluster changes keeps the
 * charts live without polling.
 */
export function useUsage(vcluster: VCluster): { samples: UsageSample[]; error: ErrorDescription | undefined } {
  const client = useClient();
  const [state, setState] = useState<{ samples: UsageSample[]; error: ErrorDescription | undefined }>({
    samples: [],
    error: undefined,
  });
  const version = vcluster.annotations[Annotations.resourceVersion] ?? "";
  useEffect(() => {
    const stop = new AbortController();
    client.vclusters
      .listVClusterUsage({ name: vcluster.name, namespace: vcluster.namespace, limit: 1000 }, { signal: stop.signal })
      .then(
        (response) => setState({ samples: response.samples, error: undefined }),
        (error: unknown) => {
          if (!stop.signal.aborted) setState((previous) => ({ ...previous, error: describeError(error) }));
        },
      );
    return () => stop.abort();
  }, [client, vcluster.namespace, vcluster.name, version]);
  return state;
}
