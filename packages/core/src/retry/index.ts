export { RetryBudget, type RetryBudgetOptions, retryBudgetDefaults } from "./retry-budget.js";
export { retrySafeKey } from "./retry-context.js";
export { defaultIsNotProcessed, isSafeToRepeat } from "./retry-decision.js";
export { createRetryInterceptor } from "./retry-interceptor.js";
export { type RetryEvent, type RetryOptions, retryDefaults } from "./retry-options.js";
