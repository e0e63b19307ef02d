export { type ApiErrorDetail, errorDetail, type FieldViolation } from "./error-detail.js";
export * from "./guards.js";
export { attemptHistory, RetriedCallError } from "./retried-call-error.js";
