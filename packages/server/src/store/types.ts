import type { Phase, Snapshot, VCluster, WatchEventType } from "@open-vcluster/api";
import type { LabelRequirement } from "@open-vcluster/core";

/**
 * A compiled label selector. It sees the labels only, so non-matching rows are never decoded.
 * When it carries the selector's `requirements` (exactly what it tests), a store may evaluate
 * them natively instead, e.g. in SQL.
 */
export type LabelPredicate = ((labels: Record<string, string>) => boolean) & {
  readonly requirements?: readonly LabelRequirement[];
};

/**
 * Which vclusters a list returns. Every set field must match (AND). Absent or empty
 * fields do not filter.
 */
export interface VClusterFilter {
  namespace?: string;
  name?: string;
  /** Any of these phases; an empty array means all phases. */
  phases?: Phase[];
  owner?: string;
  project?: string;
  /** Tenancy: only vclusters the subject owns or that belong to one of its projects. */
  visibleTo?: { owner: string; projects: string[] };
  labels?: LabelPredicate;
}

/** "name" sorts by (namespace, name); the create-time orders break ties by id. */
export type VClusterOrder = "name" | "create_time" | "-create_time";

/**
 * The position after which the next page starts: the sort key of the previous page's last
 * item. Only the fields of the requested order are read; build it with `vclusterCursor`.
 */
export interface VClusterCursor {
  namespace: string;
  name: string;
  createTimeMs: number;
  id: string;
}

export interface ListResult<T> {
  items: T[];
  /** How many items match the filter over all pages (ignoring the cursor). */
  total: number;
  /** Whether more matching items follow this page. */
  hasMore: boolean;
}

export interface SnapshotFilter {
  namespace?: string;
  vclusterName?: string;
  vclusterId?: string;
  labels?: LabelPredicate;
  /** Tenancy: only snapshots of these vclusters; an empty set matches nothing. */
  visibleVClusterIds?: ReadonlySet<string>;
}

/** Snapshots are listed newest first: by create time descending, then id descending. */
export interface SnapshotCursor {
  createTimeMs: number;
  id: string;
}

export interface StoredEvent {
  resourceVersion: number;
  type: WatchEventType;
  /** The vcluster after the change; for DELETED its final state, carrying the deletion's version. */
  vcluster: VCluster;
}

export interface IdempotencyRecord {
  key: string;
  /** Identifies the request the key was first used with, so reuse with another request is detected. */
  fingerprint: string;
  response: Uint8Array;
  createTime: Date;
}

/** The operations available inside a transaction. All are synchronous. */
export interface StoreTx {
  getVCluster(namespace: string, name: string): VCluster | undefined;
  getVClusterById(id: string): VCluster | undefined;
  /**
   * Inserts or replaces (by id). Assigns the next resource version, writes it into
   * annotations[Annotations.resourceVersion], appends an ADDED/MODIFIED event, returns the
   * stored copy. Throws NameConflictError when another vcluster holds (namespace, name).
   */
  putVCluster(vcluster: VCluster): VCluster;
  /** Removes it, appends a DELETED event carrying the final object (with its new version). */
  deleteVCluster(id: string): VCluster | undefined;
  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): ListResult<VCluster>;

  getSnapshot(id: string): Snapshot | undefined;
  getSnapshotByName(namespace: string, name: string): Snapshot | undefined;
  /**
   * Inserts or replaces (by id); content is kept when omitted on update. Throws
   * NameConflictError when another snapshot holds (namespace, name).
   */
  putSnapshot(snapshot: Snapshot, content?: Uint8Array): void;
  getSnapshotContent(id: string): Uint8Array | undefined;
  /** Deletes the snapshot and its content; false when it did not exist. */
  deleteSnapshot(id: string): boolean;
  listSnapshots(filter: SnapshotFilter, after: SnapshotCursor | undefined, limit: number): ListResult<Snapshot>;
  /** Snapshots whose expire_time is at or before `time`, soonest first. */
  snapshotsExpiringBefore(time: Date): Snapshot[];

  getIdempotency(key: string): IdempotencyRecord | undefined;
  /** Inserts or replaces the record of `record.key`. */
  putIdempotency(record: IdempotencyRecord): void;
  /** Deletes records created strictly before `time`; returns how many. */
  deleteIdempotencyBefore(time: Date): number;
}

/** A store. The StoreTx methods called on it directly run in a transaction of their own. */
export interface Store extends StoreTx {
  /**
   * Runs fn all-or-nothing: if it throws, none of its writes remain and no event is published.
   * Events are published only after commit. A nested call joins the outer transaction as a
   * savepoint: if the inner fn throws, only the inner writes are undone. fn must be synchronous.
   */
  transaction<T>(fn: (tx: StoreTx) => T): T;
  /** Newest committed resource version (0 when nothing was ever written). */
  currentVersion(): number;
  /** Events with a version greater than this are replayable. */
  oldestRetainedVersion(): number;
  /**
   * Committed events with a version greater than `version`, oldest first, at most `limit`.
   * Throws HistoryExpiredError if version < oldestRetainedVersion().
   */
  eventsAfter(version: number, limit?: number): StoredEvent[];
  /** The listener is called synchronously after each commit that produced events. */
  subscribe(listener: (events: StoredEvent[]) => void): () => void;
  close(): void;
}

export type StoreSpec = "memory" | `sqlite:${string}`;

export interface StoreOptions {
  /** How many events eventsAfter can replay; older ones are dropped at commit. Default 10000. */
  historyLimit?: number;
  /**
   * Receives errors thrown by subscribers. A failing subscriber must not undo a commit nor
   * starve the others, so errors are reported here instead (default: a process warning).
   */
  onListenerError?: (error: unknown) => void;
}

export const DEFAULT_HISTORY_LIMIT = 10_000;

/** eventsAfter was asked for versions that were already trimmed from the history. */
export class HistoryExpiredError extends Error {
  override readonly name = "HistoryExpiredError";
  readonly requestedVersion: number;
  readonly oldestRetainedVersion: number;

  constructor(requestedVersion: number, oldestRetainedVersion: number) {
    super(
      `resource version ${requestedVersion} is older than the retained history (oldest replayable: after ${oldestRetainedVersion})`,
    );
    this.requestedVersion = requestedVersion;
    this.oldestRetainedVersion = oldestRetainedVersion;
  }
}

/** Another object of the same kind already holds this (namespace, name). */
export class NameConflictError extends Error {
  override readonly name = "NameConflictError";
  readonly kind: "vcluster" | "snapshot";
  readonly namespace: string;
  readonly objectName: string;
  readonly existingId: string;

  constructor(kind: "vcluster" | "snapshot", namespace: string, objectName: string, existingId: string) {
    super(`${kind} ${namespace}/${objectName} already exists (id ${existingId})`);
    this.kind = kind;
    this.namespace = namespace;
    this.objectName = objectName;
    this.existingId = existingId;
  }
}
