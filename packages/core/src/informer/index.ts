export { type CacheEvent, VClusterCacheStore } from "./cache-store.js";
export { Reflector, type ReflectorOptions, type ReflectorSource } from "./reflector.js";
export { type InformerHandlers, type InformerOptions, VClusterInformer } from "./vcluster-informer.js";
