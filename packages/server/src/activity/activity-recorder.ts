import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Annotations, Phase, type VCluster, WatchEventType } from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import type { StoredEvent } from "../store/index.js";
import type { ActivityLog } from "./activity-log.js";

/** The mutations the timeline records, by the name of their RPC's verb. */
export type OperationVerb = "create" | "update" | "delete" | "scale" | "suspend" | "resume" | "snapshot" | "restore";

const SETTLED = new Set([Phase.RUNNING, Phase.SUSPENDED, Phase.ERROR]);

interface Seen {
  phase: Phase;
  conditions: Map<string, string>;
}

interface Started {
  verb: OperationVerb;
  actor: string;
  startedAt: Date;
  operationId: string;
}

function title(verb: string): string {
  return `${verb.charAt(0).toUpperCase()}${verb.slice(1)}`;
}

function phaseName(phase: Phase): string {
  return title((Phase[phase] ?? "UNSPECIFIED").toLowerCase());
}

/**
 * Writes the timeline: requests as they are answered (who, accepted or refused), then, from the
 * store's committed changes, the phase and condition transitions they cause and the end of
 * each operation with its outcome and duration.
 */
export class ActivityRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly started = new Map<string, Started>();

  constructor(
    private readonly log: ActivityLog,
    private readonly clock: Clock,
  ) {}

  /** A request was accepted: the operation runs now (its end is seen in the store's changes). */
  accepted(verb: OperationVerb, vcluster: VCluster, actor: string, startedAt: Date, operationId: string): void {
    this.started.set(vcluster.id, { verb, actor, startedAt, operationId });
    this.remember(vcluster);
    this.log.record(vcluster.id, {
      time: timestampFromDate(startedAt),
      type: "Normal",
      reason: `${title(verb)}Requested`,
      message: `${actor || "someone"} asked to ${verb} ${vcluster.namespace}/${vcluster.name}`,
      actor,
      operation: verb,
      operationId,
    });
    // Nothing left to wait for: a change done at once (labels only) or a create that waited
    // until ready. A suspend still shows Running while it runs, so only its store change ends it.
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    const started = this.started.get(vcluster.id);
    if (started && verb !== "suspend" && SETTLED.has(phase)) {
      this.finish(vcluster, started, phase === Phase.ERROR ? "Failed" : "Succeeded", "");
    }
  }

  /** A request about an existing vcluster was refused; it changed nothing. */
  refused(verb: OperationVerb, vclusterId: string, actor: string, startedAt: Date, message: string): void {
    this.log.record(vclusterId, {
      time: timestampFromDate(startedAt),
      type: "Warning",
      reason: `${title(verb)}Refused`,
      message,
      actor,
      operation: verb,
      outcome: "Failed",
      duration: durationFromMs(this.clock.now().getTime() - startedAt.getTime()),
    });
  }

  /** Follows the store's committed changes (subscribe this to the store). */
  observe(events: StoredEvent[]): void {
    for (const event of events) {
      if (event.type === WatchEventType.DELETED) this.deleted(event.vcluster);
      else this.changed(event.vcluster);
    }
  }

  private remember(vcluster: VCluster): void {
    if (this.seen.has(vcluster.id)) return;
    this.seen.set(vcluster.id, {
      phase: vcluster.status?.phase ?? Phase.UNSPECIFIED,
      conditions: new Map((vcluster.status?.conditions ?? []).map((c) => [c.type, c.status])),
    });
  }

  private changed(vcluster: VCluster): void {
    const now = timestampFromDate(this.clock.now());
    const before = this.seen.get(vcluster.id);
    const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
    const conditions = new Map((vcluster.status?.conditions ?? []).map((c) => [c.type, c.status]));
    this.seen.set(vcluster.id, { phase, conditions });
    if (!before) return;
    if (before.phase !== phase) {
      this.log.record(vcluster.id, {
        time: now,
        type: phase === Phase.ERROR ? "Warning" : "Normal",
        reason: "PhaseChanged",
        message: `${phaseName(before.phase)} → ${phaseName(phase)}${vcluster.status?.message ? `: ${vcluster.status.message}` : ""}`,
        fromPhase: before.phase,
        toPhase: phase,
      });
    }
    for (const condition of vcluster.status?.conditions ?? []) {
      const was = before.conditions.get(condition.type);
      if (was === condition.status) continue;
      this.log.record(vcluster.id, {
        time: now,
        type: "Normal",
        reason: "ConditionChanged",
        message: `${condition.type} ${was ?? "absent"} → ${condition.status}${condition.reason ? ` (${condition.reason})` : ""}`,
        conditionType: condition.type,
        conditionStatus: condition.status,
      });
    }
    const started = this.started.get(vcluster.id);
    // The operation ends when the vcluster settles while still carrying its id (a forced delete
    // that took over carries another one and ends this operation as superseded).
    if (started && before.phase !== phase && SETTLED.has(phase)) {
      const superseded = vcluster.annotations[Annotations.operationId] !== started.operationId;
      this.finish(
        vcluster,
        started,
        phase === Phase.ERROR || superseded ? "Failed" : "Succeeded",
        vcluster.status?.message ?? "",
      );
    }
  }

  private deleted(vcluster: VCluster): void {
    const started = this.started.get(vcluster.id);
    if (started)
      this.finish(vcluster, started, started.verb === "delete" ? "Succeeded" : "Failed", "the vcluster was deleted");
    this.seen.delete(vcluster.id);
  }

  private finish(vcluster: VCluster, started: Started, outcome: "Succeeded" | "Failed", detail: string): void {
    this.started.delete(vcluster.id);
    const took = this.clock.now().getTime() - started.startedAt.getTime();
    this.log.record(vcluster.id, {
      time: timestampFromDate(this.clock.now()),
      type: outcome === "Failed" ? "Warning" : "Normal",
      reason: `${title(started.verb)}${outcome}`,
      message: `${title(started.verb)} of ${vcluster.namespace}/${vcluster.name} ${outcome === "Succeeded" ? "succeeded" : "failed"} after ${(took / 1000).toFixed(1)} s${detail ? `: ${detail}` : ""}`,
      actor: started.actor,
      operation: started.verb,
      operationId: started.operationId,
      outcome,
      duration: durationFromMs(took),
    });
  }
}
