export type { FieldViolation } from "./field-violation.js";
export { invalidArgument } from "./invalid-argument.js";
export {
  type Cidr,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIpAddress,
  type IpAddress,
  parseCidr,
  parseIpAddress,
} from "./ip-address.js";
export {
  compareKubernetesVersions,
  DEFAULT_KUBERNETES_VERSION,
  type KubernetesVersion,
  kubernetesUpgradeProblem,
  kubernetesVersionProblem,
  normalizeKubernetesVersion,
  parseKubernetesVersion,
  SUPPORTED_KUBERNETES_MINORS,
} from "./kubernetes-version.js";
export { MAX_VCLUSTER_NAME_LENGTH } from "./names.js";
export { formatQuantity, parseQuantity, QuantityError } from "./quantity.js";
export {
  MAX_SNAPSHOT_RETENTION_HOURS,
  validateDeleteSnapshot,
  validateGetSnapshot,
  validateListSnapshots,
  validateRestoreVCluster,
  validateSnapshotVCluster,
} from "./snapshot-requests.js";
export { MAX_REPLICAS, MIN_HA_REPLICAS, MIN_REPLICAS, type SpecValidationOptions, validateSpec } from "./spec.js";
export {
  applySpecDefaults,
  DEFAULT_DISTRO,
  DEFAULT_PERSISTENCE_SIZE,
  DEFAULT_REPLICAS,
  DEFAULT_RESOURCES,
} from "./spec-defaults.js";
export { type ConfigMapping, parseConfigMapping, usesEtcdBackingStore } from "./structured-config.js";
export {
  KUBECONFIG_FORMATS,
  MAX_KUBECONFIG_VALIDITY_HOURS,
  VCLUSTER_ORDERS,
  validateCreateVCluster,
  validateDeleteVCluster,
  validateGetVCluster,
  validateGetVClusterKubeconfig,
  validateListVClusters,
  validateResumeVCluster,
  validateScaleVCluster,
  validateSuspendVCluster,
  validateUpdateVCluster,
  validateWatchVCluster,
} from "./vcluster-requests.js";
