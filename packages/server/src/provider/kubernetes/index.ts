export { type ChartSource, DEFAULT_CHART } from "./helm.js";
export type { ClusterConnection } from "./kube.js";
export { createKubernetesProvider, type LazyKubernetesProvider } from "./lazy.js";
export { ADOPT_LABEL, MANAGED_LABEL, MANAGED_VALUE } from "./names.js";
export type { KubernetesProviderOptions } from "./provider.js";
export { renderValues } from "./values.js";
