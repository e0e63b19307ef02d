export { type ProviderFault, ProviderFaults } from "./faults.js";
export { DEFAULT_DURATIONS_MS, SimulatedProvider, type SimulatedProviderOptions } from "./simulated.js";
export {
  OPERATION_KINDS,
  type OperationKind,
  type Provider,
  ProviderError,
  type ProviderOperation,
  type ProviderResult,
} from "./types.js";
export { simulatedUsage, suspendedUsage } from "./usage.js";
