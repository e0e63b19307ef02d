export { Backoff, type BackoffOptions, fullJitterDelay } from "./backoff.js";
export { type Clock, type Random, sleep, systemClock } from "./clock.js";
export { ManualClock } from "./manual-clock.js";
