export { generationOf, isSettled } from "./settled.js";
export { type SnapshotWaitOptions, snapshotPollDefaults, waitUntilSnapshotReady } from "./snapshot-waiter.js";
export {
  type VClusterGoal,
  type VClusterRef,
  type VClusterWaitOptions,
  type WaiterContext,
  type WaitForOptions,
  waitForVCluster,
  waitUntilDeleted,
  waitUntilRunning,
  waitUntilSuspended,
} from "./vcluster-waiters.js";
export { WaitFailedError, WaitTimeoutError } from "./wait-errors.js";
export { type WaitOptions, waitDefaults } from "./wait-scope.js";
