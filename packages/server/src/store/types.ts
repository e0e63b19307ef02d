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

/**
 * Lifecycle work still to do on one vcluster: server-internal state, never shown to clients.
 * It lives beside the vcluster (not in its annotations) and carries the lease of the replica
 * that drives it.
 */
export interface OperationRecord {
  vclusterId: string;
  /** What to do; JSON-serialisable. */
  operation: { kind: string; id: string } & Record<string, unknown>;
  /** A create waiting for provisioning capacity (its vcluster is PENDING); no one drives it yet. */
  waiting: boolean;
  /** The replica holding the lease ("" = nobody). */
  owner: string;
  /** When the lease ends (store time, ms since the epoch); another replica may then take over. */
  leaseExpiresMs: number;
  /** Creation order, for first-come-first-served promotion of waiting creates. */
  sequence: number;
}

export interface ClaimRequest {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Also take operations leased to someone else whose lease has not expired (single-process stores at boot). */
  takeOverLive?: boolean;
  /** Creates allowed to run at once over all replicas (0 = unlimited): promotes waiting ones into free slots. */
  maxActiveCreates?: number;
}

/**
 * The two histories each vcluster keeps beside it: its activity timeline and its usage
 * samples. Entries are opaque to the store (the service encodes them); they go when the
 * vcluster is deleted.
 */
export type HistoryKind = "event" | "usage";

export interface HistoryEntry {
  /** Increases with every entry of one vcluster and kind, in commit order. */
  sequence: number;
  /** When it happened (ms since the epoch). */
  timeMs: number;
  data: Uint8Array;
}

/** An entry to append: the store gives it its sequence. */
export type HistoryEntryInit = Omit<HistoryEntry, "sequence">;

export interface HistoryAppend {
  /** Entries of this kind kept for the vcluster; older ones are dropped in the same transaction. */
  keep: number;
  /** Replace the newest stored entry with the first new one (which gets a new sequence). */
  replaceLast?: boolean;
}

/** Reads, inside or outside a transaction. */
export interface StoreReader {
  getVCluster(namespace: string, name: string): Promise<VCluster | undefined>;
  getVClusterById(id: string): Promise<VCluster | undefined>;
  /**
   * getVCluster without the copy: a frozen object that other callers may be handed too. For
   * reads that only look at a vcluster and send it (GetVCluster); whoever changes a vcluster
   * reads it with getVCluster.
   */
  peekVCluster(namespace: string, name: string): Promise<Readonly<VCluster> | undefined>;
  peekVClusterById(id: string): Promise<Readonly<VCluster> | undefined>;
  listVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<VCluster>>;
  /**
   * listVClusters without the copies: frozen objects that other callers may be handed too (see
   * peekVCluster). For reads that only send what they list.
   */
  peekVClusters(
    filter: VClusterFilter,
    order: VClusterOrder,
    after: VClusterCursor | undefined,
    limit: number,
  ): Promise<ListResult<Readonly<VCluster>>>;
  getSnapshot(id: string): Promise<Snapshot | undefined>;
  getSnapshotByName(namespace: string, name: string): Promise<Snapshot | undefined>;
  getSnapshotContent(id: string): Promise<Uint8Array | undefined>;
  listSnapshots(
    filter: SnapshotFilter,
    after: SnapshotCursor | undefined,
    limit: number,
  ): Promise<ListResult<Snapshot>>;
  /** Snapshots whose expire_time is at or before `time`, soonest first. */
  snapshotsExpiringBefore(time: Date): Promise<Snapshot[]>;
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  getOperation(vclusterId: string): Promise<OperationRecord | undefined>;
  /** Newest committed resource version as this reader sees it (0 when nothing was ever written). */
  currentVersion(): Promise<number>;
  /** The newest `limit` entries with a sequence greater than `afterSequence`, oldest first. */
  listHistory(kind: HistoryKind, vclusterId: string, afterSequence: number, limit: number): Promise<HistoryEntry[]>;
}

/**
 * The operations of one transaction. Each transaction has its own StoreTx: nothing of it is
 * shared with another transaction running at the same time.
 */
export interface StoreTx extends StoreReader {
  /**
   * Inserts or replaces (by id). Assigns the next resource version, writes it into
   * annotations[Annotations.resourceVersion], appends an ADDED/MODIFIED event, returns the
   * stored copy. Throws NameConflictError when another vcluster holds (namespace, name).
   *
   * `expectedVersion` makes it a compare-and-set: the write happens only if the stored
   * vcluster still has that resource version (0 = it must not exist yet); otherwise it throws
   * VersionConflictError and the caller retries from a fresh read.
   */
  putVCluster(vcluster: VCluster, expectedVersion?: number): Promise<VCluster>;
  /** Removes it and its histories, appends a DELETED event carrying the final object (with its new version). */
  deleteVCluster(id: string, expectedVersion?: number): Promise<VCluster | undefined>;
  /**
   * Inserts or replaces (by id); content is kept when omitted on update. Throws
   * NameConflictError when another snapshot holds (namespace, name).
   */
  putSnapshot(snapshot: Snapshot, content?: Uint8Array): Promise<void>;
  /** Deletes the snapshot and its content; false when it did not exist. */
  deleteSnapshot(id: string): Promise<boolean>;
  /** Inserts or replaces the record of `record.key`. */
  putIdempotency(record: IdempotencyRecord): Promise<void>;
  /** Deletes records created strictly before `time`; returns how many. */
  deleteIdempotencyBefore(time: Date): Promise<number>;
  /**
   * Adds entries, oldest first, to a vcluster's history of `kind` in one write; returns the
   * sequence of the last (the current last when `entries` is empty, which changes nothing).
   * Writers of one vcluster's history are serialised, so sequences follow commit order.
   */
  appendHistory(
    kind: HistoryKind,
    vclusterId: string,
    entries: readonly HistoryEntryInit[],
    options: HistoryAppend,
  ): Promise<number>;

  /**
   * Records the operation of a vcluster (replacing any previous one). Unless it is waiting,
   * it is leased to `owner` for `leaseMs` from now (store time).
   */
  putOperation(
    vclusterId: string,
    operation: OperationRecord["operation"],
    lease: { owner: string; leaseMs: number } | { waiting: true },
  ): Promise<OperationRecord>;
  /** Removes the operation of a vcluster if it is still `operationId` (any when omitted). */
  deleteOperation(vclusterId: string, operationId?: string): Promise<boolean>;
  /**
   * Leases operations nobody drives: unowned, lease expired, or (promoted into a free
   * provisioning slot) waiting creates. Each is returned at most to one concurrent claimer.
   */
  claimOperations(request: ClaimRequest): Promise<OperationRecord[]>;
  /** Extends the leases `owner` still holds among `vclusterIds`; returns those it holds. */
  renewLeases(owner: string, vclusterIds: readonly string[], leaseMs: number): Promise<string[]>;
  /** Creates that run now (not waiting), over all replicas; takes the store's write lock. */
  countActiveCreates(): Promise<{ active: number; waiting: number }>;
  /**
   * Whether periodic housekeeping is due: true for exactly one caller per `intervalMs` over all
   * replicas sharing the store, which then does it.
   */
  claimHousekeeping(intervalMs: number): Promise<boolean>;
}

/** What a store guarantees; see docs/server/store.md. */
export interface StoreTraits {
  /** Several server processes may share it (replicas). False: this process owns all state. */
  shared: boolean;
}

/**
 * A store. Reads called on it directly run on their own (each consistent by itself);
 * `transaction` groups reads and writes that must be atomic.
 */
export interface Store extends StoreReader {
  readonly traits: StoreTraits;
  /**
   * Runs fn all-or-nothing: if it throws, none of its writes remain and no event is published.
   * fn gets a StoreTx of its own and may await anything; the store keeps concurrent
   * transactions from seeing each other's uncommitted writes. Calling `transaction` on the
   * store again from inside fn is refused (use the tx).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Runs reads that must see one consistent state (e.g. a listing and its version); no writes. */
  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T>;
  /** Events with a version greater than this are replayable. */
  oldestRetainedVersion(): Promise<number>;
  /**
   * Committed events with a version greater than `version`, oldest first, at most `limit`.
   * Rejects with HistoryExpiredError if version < oldestRetainedVersion().
   */
  eventsAfter(version: number, limit?: number): Promise<StoredEvent[]>;
  /**
   * The listener gets every committed change (of this and, for shared stores, of other
   * processes) exactly once, in resource-version order without gaps, after commit.
   *
   * The one exception: a shared store's change feed that fell so far behind that the history
   * no longer holds what it missed (this process stalled while other replicas wrote). It then
   * calls `onGap` with what was lost and goes on from the oldest retained version; whoever
   * must see every event has to start over (watches end as if resumed from an expired version).
   *
   * The events are frozen and shared by every listener: a listener that keeps or hands on a
   * vcluster it means to change copies it first.
   */
  subscribe(listener: (events: readonly StoredEvent[]) => void, onGap?: (gap: HistoryExpiredError) => void): () => void;
  /** Whether the store can serve now (a networked database may be unreachable). */
  healthy(): boolean;
  close(): Promise<void>;
}

export type StoreSpec = "memory" | `sqlite:${string}` | `postgres://${string}` | `postgresql://${string}`;

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

/** A compare-and-set write found another version than it expected, or the database aborted a conflicting transaction. */
export class VersionConflictError extends Error {
  override readonly name = "VersionConflictError";
}

/** The store cannot be reached right now (a networked database is down); retrying later may work. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}
