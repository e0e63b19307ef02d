import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { ResourceUsageSchema, UsageSampleSchema, type VCluster, VClusterEventSchema } from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import { copyVCluster, type OperationRecord, type Store, type StoreTx } from "../store/index.js";
import { parseQuantity } from "../validation/index.js";
import { currentRequest, type RequestContext } from "./request-context.js";
import {
  type EventInit,
  endedInFailure,
  finished,
  type RequestSeen,
  requested,
  title,
  transitions,
  type VClusterChange,
} from "./timeline.js";

/** Events kept per vcluster: the recent history a timeline shows, not an audit log. */
export const EVENTS_PER_VCLUSTER = 200;
/** Usage samples kept per vcluster (six hours at the default interval). */
export const USAGE_SAMPLES_PER_VCLUSTER = 360;
/** Events an operation's end looks through for its request before it reads all of them. */
const RECENT_EVENTS_FIRST = 8;
/** At most one usage sample per vcluster in each interval of this length. */
export const DEFAULT_USAGE_SAMPLE_INTERVAL_MS = 60_000;

export interface RecordingOptions {
  clock: Clock;
  usageSampleIntervalMs?: number;
}

type Operation = OperationRecord["operation"];

/** What a transaction did, gathered as it runs and written down before it commits. */
class Changes {
  readonly byId = new Map<string, VClusterChange>();
  readonly before = new Map<string, Readonly<VCluster> | undefined>();
  readonly deleted = new Set<string>();
}

function bindAll<T extends object>(target: T, overrides: Partial<T>): T {
  // The stores are classes with private fields: their methods must run on the store itself.
  // Each is bound once: a new function per access would also defeat the caches of the layers
  // above (metrics keeps its timed wrapper per function).
  const bound = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(object, property) {
      if (property in overrides) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") return value;
      let fn = bound.get(value);
      if (fn === undefined) {
        fn = value.bind(object);
        bound.set(value, fn);
      }
      return fn;
    },
  });
}

/**
 * The store as the service sees it: every transaction also writes the activity timeline and
 * the usage samples of the vclusters it changes, in that same transaction, so every replica
 * sees them and none is recorded for a change that rolled back.
 */
export function recordingStore(store: Store, options: RecordingOptions): Store {
  const interval = options.usageSampleIntervalMs ?? DEFAULT_USAGE_SAMPLE_INTERVAL_MS;
  const transaction = async <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    const request = currentRequest();
    const recordedNow: string[] = [];
    const result = await store.transaction(async (tx) => {
      recordedNow.length = 0;
      const changes = new Changes();
      const value = await fn(trackingTx(tx, changes));
      recordedNow.push(...(await writeDown(tx, changes, request, options.clock.now().getTime(), interval)));
      return value;
    });
    for (const id of recordedNow) request?.recorded.add(id);
    return result;
  };
  return bindAll(store, { transaction });
}

function trackingTx(tx: StoreTx, changes: Changes): StoreTx {
  const beforeOf = async (id: string) => {
    // Only read, never changed: the stored object itself, not a copy.
    if (!changes.before.has(id)) changes.before.set(id, await tx.peekVClusterById(id));
    return changes.before.get(id);
  };
  const touch = async (id: string, after?: VCluster) => {
    const before = await beforeOf(id);
    const existing = changes.byId.get(id);
    const now = after ?? existing?.after ?? before;
    if (!now) return undefined;
    const change: VClusterChange = { ...existing, before, after: now };
    changes.byId.set(id, change);
    return change;
  };
  const ending = async (id: string, next: Operation | undefined) => {
    const previous = (await tx.getOperation(id))?.operation;
    if (!previous || previous.id === next?.id) return;
    const change = await touch(id);
    if (change && !change.ended)
      change.ended = { id: previous.id, kind: previous.kind, superseded: next !== undefined };
  };
  // What the transaction reads before writing is the state before it: remembering it spares
  // the write path a second read.
  const seen = (vcluster: VCluster | undefined) => {
    if (vcluster && !changes.before.has(vcluster.id)) changes.before.set(vcluster.id, copyVCluster(vcluster));
    return vcluster;
  };
  return bindAll(tx, {
    async getVCluster(namespace: string, name: string) {
      return seen(await tx.getVCluster(namespace, name));
    },
    async getVClusterById(id: string) {
      return seen(await tx.getVClusterById(id));
    },
    async putVCluster(vcluster: VCluster, expectedVersion?: number) {
      await beforeOf(vcluster.id);
      const stored = await tx.putVCluster(vcluster, expectedVersion);
      changes.deleted.delete(stored.id);
      await touch(stored.id, stored);
      return stored;
    },
    async deleteVCluster(id: string, expectedVersion?: number) {
      const final = await tx.deleteVCluster(id, expectedVersion);
      // The store removes its histories with it.
      if (final) changes.deleted.add(id);
      return final;
    },
    async putOperation(vclusterId: string, operation: Operation, lease: Parameters<StoreTx["putOperation"]>[2]) {
      await ending(vclusterId, operation);
      const record = await tx.putOperation(vclusterId, operation, lease);
      const change = await touch(vclusterId);
      if (change) change.begun = { id: operation.id, kind: operation.kind };
      return record;
    },
    async deleteOperation(vclusterId: string, operationId?: string) {
      const record = (await tx.getOperation(vclusterId))?.operation;
      const removed = await tx.deleteOperation(vclusterId, operationId);
      if (removed && record) {
        const change = await touch(vclusterId);
        if (change && !change.ended) change.ended = { id: record.id, kind: record.kind, superseded: false };
      }
      return removed;
    },
  } satisfies Partial<StoreTx>);
}

/** Writes the transaction's events and usage samples; returns the vclusters whose request it recorded. */
async function writeDown(
  tx: StoreTx,
  changes: Changes,
  request: RequestContext | undefined,
  nowMs: number,
  intervalMs: number,
): Promise<string[]> {
  const recorded: string[] = [];
  for (const [id, change] of changes.byId) {
    if (changes.deleted.has(id)) continue;
    const events: EventInit[] = [];
    const asked = request && !request.recorded.has(id);
    if (change.ended && change.ended.id !== change.begun?.id) {
      const seen = await requestOf(tx, id, change.ended.id);
      const detail = change.ended.superseded ? "another operation took over" : (change.after.status?.message ?? "");
      const failed = change.ended.superseded || endedInFailure(change.after);
      events.push(finished(change.ended.kind, change.after, change.ended.id, seen, failed, detail, nowMs));
    }
    if (asked) {
      recorded.push(id);
      events.push(requested(request.verb, change.after, request.actor, request.startedAtMs, change.begun?.id ?? ""));
    }
    events.push(...transitions(change.before, change.after, nowMs));
    // A request that started no operation (a labels-only update) is done when it commits.
    if (asked && !change.begun) {
      const seen = { actor: request.actor, timeMs: request.startedAtMs };
      events.push(finished(request.verb, change.after, "", seen, endedInFailure(change.after), "", nowMs));
    }
    const entries = events.map((event) => ({
      timeMs: nowMs,
      data: toBinary(VClusterEventSchema, create(VClusterEventSchema, event)),
    }));
    if (entries.length > 0) await tx.appendHistory("event", id, entries, { keep: EVENTS_PER_VCLUSTER });
    await sampleUsage(tx, change, nowMs, intervalMs);
  }
  return recorded;
}

/** The "…Requested" event of an operation, to say who asked and how long it took. */
async function requestOf(tx: StoreTx, vclusterId: string, operationId: string): Promise<RequestSeen | undefined> {
  // It is nearly always among the newest few events: those are read (and decoded) first.
  for (const limit of [RECENT_EVENTS_FIRST, EVENTS_PER_VCLUSTER]) {
    const recent = await tx.listHistory("event", vclusterId, 0, limit);
    for (const entry of recent.reverse()) {
      const event = fromBinary(VClusterEventSchema, entry.data);
      if (event.operationId === operationId && event.reason === `${title(event.operation)}Requested`) {
        return { actor: event.actor, timeMs: event.time ? timestampMs(event.time) : entry.timeMs };
      }
    }
    if (recent.length < limit) break;
  }
  return undefined;
}

/** Samples the committed usage when it changed: one sample per interval, the newest value winning. */
async function sampleUsage(tx: StoreTx, change: VClusterChange, nowMs: number, intervalMs: number): Promise<void> {
  const usage = change.after.status?.currentUsage;
  if (!usage) return;
  const previous = change.before?.status?.currentUsage;
  if (previous && equals(ResourceUsageSchema, previous, usage)) return;
  const [last] = await tx.listHistory("usage", change.after.id, 0, 1);
  const sameInterval = last !== undefined && Math.floor(last.timeMs / intervalMs) === Math.floor(nowMs / intervalMs);
  const sample = create(UsageSampleSchema, {
    time: timestampFromMs(nowMs),
    usage,
    cpuCores: quantityOrZero(usage.cpuUsage),
    memoryBytes: BigInt(Math.round(quantityOrZero(usage.memoryUsage))),
    storageBytes: BigInt(Math.round(quantityOrZero(usage.storageUsage))),
  });
  const data = toBinary(UsageSampleSchema, sample);
  await tx.appendHistory("usage", change.after.id, [{ timeMs: nowMs, data }], {
    keep: USAGE_SAMPLES_PER_VCLUSTER,
    replaceLast: sameInterval,
  });
}

/** A provider's figure in base units; one it reports in no known form counts as nothing. */
function quantityOrZero(text: string): number {
  if (!text) return 0;
  try {
    return parseQuantity(text);
  } catch {
    return 0;
  }
}
