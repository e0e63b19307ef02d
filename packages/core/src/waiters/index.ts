export { type SnapshotWaitOptions, snapshotPollDefaults, waitUntilSnapshotReady } from "./snapshot-waiter.js";
export {
  type VClusterRef,
  type WaiterContext,
  waitUntilDeleted,
  waitUntilRunning,
  waitUntilSuspended,
} from "./vcluster-waiters.js";
export { WaitFailedError, WaitTimeoutError } from "./wait-errors.js";
export { type WaitOptions, waitDefaults } from "./wait-scope.js";
