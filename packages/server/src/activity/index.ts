export { Activity } from "./activity-service.js";
export {
  DEFAULT_USAGE_SAMPLE_INTERVAL_MS,
  EVENTS_PER_VCLUSTER,
  recordingStore,
  USAGE_SAMPLES_PER_VCLUSTER,
} from "./recording-store.js";
export type { OperationVerb } from "./request-context.js";
