export {
  type ListSnapshotsInit,
  type ListVClustersInit,
  type PaginateCallOptions,
  paginateSnapshots,
  paginateVClusters,
} from "./list-methods.js";
export { type Page, type PageFetcher, Paginated, type PaginateOptions, RepeatedPageTokenError } from "./paginated.js";
