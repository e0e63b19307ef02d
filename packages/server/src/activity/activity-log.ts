import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type VClusterEvent, VClusterEventSchema } from "@open-vcluster/api";

/** Events kept per vcluster: the recent history a timeline shows, not an audit log. */
export const EVENTS_PER_VCLUSTER = 200;
/** Vclusters whose history is kept; the least recently active lose theirs first. */
export const VCLUSTERS_KEPT = 10_000;

export type EventInit = Omit<MessageInitShape<typeof VClusterEventSchema>, "sequence" | "$typeName">;

/**
 * The activity of each vcluster, keyed by its id (a re-created name starts afresh), bounded per
 * vcluster and in the number of vclusters. It lives in the server process: a restart starts
 * every timeline empty, as Kubernetes events expire.
 */
export class ActivityLog {
  private sequence = 0n;
  private readonly byVCluster = new Map<string, VClusterEvent[]>();

  constructor(
    private readonly perVCluster = EVENTS_PER_VCLUSTER,
    private readonly vclusters = VCLUSTERS_KEPT,
  ) {}

  record(vclusterId: string, event: EventInit): VClusterEvent {
    this.sequence += 1n;
    const stored = create(VClusterEventSchema, { ...event, sequence: this.sequence });
    const events = this.byVCluster.get(vclusterId) ?? [];
    // Re-inserting moves the vcluster to the end: the map's order is least recently active first.
    this.byVCluster.delete(vclusterId);
    this.byVCluster.set(vclusterId, events);
    events.push(stored);
    if (events.length > this.perVCluster) events.splice(0, events.length - this.perVCluster);
    if (this.byVCluster.size > this.vclusters) {
      const oldest = this.byVCluster.keys().next().value;
      if (oldest !== undefined) this.byVCluster.delete(oldest);
    }
    return stored;
  }

  /** The newest `limit` events after `afterSequence`, oldest first. */
  list(vclusterId: string, afterSequence: bigint, limit: number): VClusterEvent[] {
    const events = (this.byVCluster.get(vclusterId) ?? []).filter((e) => e.sequence > afterSequence);
    return events.slice(Math.max(0, events.length - limit));
  }

  lastSequence(vclusterId: string): bigint {
    return this.byVCluster.get(vclusterId)?.at(-1)?.sequence ?? 0n;
  }
}
