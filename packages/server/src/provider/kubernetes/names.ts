/** Labels and names the vcluster chart and CLI use on the host (loft-sh/vcluster facts). */
export const controlPlaneSelector = (name: string) => `app=vcluster,release=${name}`;
/** Workload pods a vcluster synced to the host carry this label with the vcluster's name. */
export const workloadSelector = (name: string) => `vcluster.loft.sh/managed-by=${name}`;
export const kubeconfigSecret = (name: string) => `vc-${name}`;

export const PAUSED = "loft.sh/paused";
export const PAUSED_REPLICAS = "loft.sh/paused-replicas";
export const PAUSED_DATE = "loft.sh/paused-date";

/** Put on namespaces the server created, so delete removes only those. */
export const MANAGED_LABEL = "vcluster.open-vcluster.io/managed-by";
export const MANAGED_VALUE = "vcluster-api-server";

/** The oldest vcluster whose control plane serves asynchronous snapshot requests (its CLI: 0.29.0-alpha.1). */
export const MIN_SNAPSHOT_APP_VERSION = "0.29.0";
/** The oldest vcluster that deletes stored snapshots through requests in phase Deleting. */
export const MIN_SNAPSHOT_DELETE_APP_VERSION = "0.31.0";
/** On CreateVCluster: adopt the existing Helm release of that name instead of installing one. */
export const ADOPT_LABEL = "open-vcluster.io/adopt";
