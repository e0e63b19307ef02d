export { type ApiErrorDetail, type ApiFieldViolation, errorDetail } from "./error-detail.js";
export * from "./guards.js";
export { attemptHistory, RetriedCallError } from "./retried-call-error.js";
