export { type ProviderFault, ProviderFaults } from "./faults.js";
export {
  createKubernetesProvider,
  type KubernetesProviderOptions,
  type LazyKubernetesProvider,
} from "./kubernetes/index.js";
export { DEFAULT_DURATIONS_MS, SimulatedProvider, type SimulatedProviderOptions } from "./simulated.js";
export {
  type Observation,
  type ObservationTarget,
  OPERATION_KINDS,
  type OperationKind,
  type PreflightDetails,
  type Provider,
  ProviderError,
  type ProviderHelmRelease,
  type ProviderKubeconfig,
  type ProviderOperation,
  ProviderPreconditionError,
  type ProviderResult,
} from "./types.js";
export { simulatedUsage, suspendedUsage } from "./usage.js";
