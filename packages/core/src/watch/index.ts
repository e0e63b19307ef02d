export { endsWatch } from "./permanent-errors.js";
export { compareResourceVersions, resourceVersionOf } from "./resource-version.js";
export { VClusterWatch, type WatchOptions, type WatchRequestInit, watchDefaults } from "./vcluster-watch.js";
export type { ConnectionStatus, WatchEvent } from "./watch-types.js";
