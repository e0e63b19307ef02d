import { MemoryStore } from "./memory.js";
import { PostgresStore, type PostgresStoreOptions } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { Store, StoreOptions, StoreSpec } from "./types.js";

export { copyVCluster } from "./copy.js";
export { compareSnapshotKeys, compareVClusterKeys, snapshotCursor, timestampToMs, vclusterCursor } from "./cursors.js";
export { DecodedVClusters, freezeDeep } from "./frozen.js";
export { MemoryStore } from "./memory.js";
export { PostgresStore, type PostgresStoreOptions } from "./postgres.js";
export { migratePostgres, PG_SCHEMA_VERSION } from "./postgres-schema.js";
export { SqliteStore } from "./sqlite.js";
export type {
  ClaimRequest,
  HistoryAppend,
  HistoryEntry,
  HistoryEntryInit,
  HistoryKind,
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
 * directory is created when missing; "sqlite::memory:" gives a throwaway SQLite database),
 * "postgres://…" (or "postgresql://…") for a database shared by replicas. A PostgreSQL store
 * opens at once and connects (and migrates) in the background; until then it is not healthy.
 */
export function openStore(spec: StoreSpec, options: StoreOptions & PostgresStoreOptions = {}): Store {
  if (spec === "memory") return new MemoryStore(options);
  if (spec.startsWith("postgres://") || spec.startsWith("postgresql://")) return new PostgresStore(spec, options);
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "") throw new TypeError('store "sqlite:" needs a file path, e.g. "sqlite:data/vcluster.db"');
    return new SqliteStore(path, options);
  }
  throw new TypeError(`unknown store "${String(spec)}": use "memory", "sqlite:<path>" or "postgres://…"`);
}
