import type { VCluster } from "@open-vcluster/api";
import type { ConnectionStatus, VClusterApiClient } from "@open-vcluster/web";
import { useEffect, useState } from "preact/hooks";

export interface VClustersState {
  vclusters: VCluster[];
  synced: boolean;
  status: ConnectionStatus;
  /** Why the informer stopped for good (e.g. the token was rejected). */
  error: unknown;
}

/**
 * Keeps every vcluster the user may see in memory through the SDK's informer: one list, then
 * the watch stream, resumed after disconnects. The page never polls and never reloads.
 * `restartKey` starts a fresh informer, e.g. after signing in.
 */
export function useVClusters(client: VClusterApiClient, restartKey: number): VClustersState {
  const [state, setState] = useState<VClustersState>({
    vclusters: [],
    synced: false,
    status: "connecting",
    error: undefined,
  });
  useEffect(() => {
    const stop = new AbortController();
    setState({ vclusters: [], synced: false, status: "connecting", error: undefined });
    const informer = client.listWatch({
      start: false,
      signal: stop.signal,
      onStatus: (status) => setState((previous) => ({ ...previous, status })),
    });
    const publish = () =>
      setState((previous) => ({ ...previous, vclusters: informer.list(), synced: informer.hasSynced() }));
    informer.on(publish);
    informer.start().catch((error: unknown) => {
      if (!stop.signal.aborted) setState((previous) => ({ ...previous, error }));
    });
    informer.waitForSync(stop.signal).then(publish, () => undefined);
    return () => stop.abort();
  }, [client, restartKey]);
  return { ...state, status: liveStatus(state.status, state.synced) };
}

/**
 * The list answering is the server answering: the page is live from the first list response,
 * not only once the watch stream sends its first message (a heartbeat, seconds later, when
 * nothing changes). A watch that then fails still turns the status to reconnecting.
 */
export function liveStatus(status: ConnectionStatus, synced: boolean): ConnectionStatus {
  return synced && status === "connecting" ? "connected" : status;
}
