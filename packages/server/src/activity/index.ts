export { ActivityLog, EVENTS_PER_VCLUSTER } from "./activity-log.js";
export { ActivityRecorder, type OperationVerb } from "./activity-recorder.js";
export { Activity } from "./activity-service.js";
