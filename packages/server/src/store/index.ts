import { MemoryStore } from "./memory.js";
import { SqliteStore } from "./sqlite.js";
import type { Store, StoreOptions, StoreSpec } from "./types.js";

export { compareSnapshotKeys, compareVClusterKeys, snapshotCursor, timestampToMs, vclusterCursor } from "./cursors.js";
export { MemoryStore } from "./memory.js";
export { SqliteStore } from "./sqlite.js";
export type {
  ClaimRequest,
  IdempotencyRecord,
  LabelPredicate,
  ListResult,
  OperationRecord,
  SnapshotCursor,
  SnapshotFilter,
  Store,
  StoredEvent,
  StoreOptions,
  StoreReader,
  StoreSpec,
  StoreTraits,
  StoreTx,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";
export {
  DEFAULT_HISTORY_LIMIT,
  HistoryExpiredError,
  NameConflictError,
  StoreUnavailableError,
  VersionConflictError,
} from "./types.js";

/**
 * Opens a store: "memory" for an ephemeral one, "sqlite:<path>" for a durable file (its
 * directory is created when missing; "sqlite::memory:" gives a throwaway SQLite database).
 */
export function openStore(spec: StoreSpec, options: StoreOptions = {}): Store {
  if (spec === "memory") return new MemoryStore(options);
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "") throw new TypeError('store "sqlite:" needs a file path, e.g. "sqlite:data/vcluster.db"');
    return new SqliteStore(path, options);
  }
  throw new TypeError(`unknown store "${String(spec)}": use "memory" or "sqlite:<path>"`);
}
