import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Phase, type VCluster, type VClusterEvent, VClusterEventSchema } from "@open-vcluster/api";

export type EventInit = Omit<MessageInitShape<typeof VClusterEventSchema>, "sequence" | "$typeName">;

/** What one committed transaction did to one vcluster. */
export interface VClusterChange {
  before: VCluster | undefined;
  after: VCluster;
  /** The operation it began (or went on with, for a follow-up step), if any. */
  begun?: { id: string; kind: string };
  /** The operation it ended (its record removed, or replaced by another one), if any. */
  ended?: { id: string; kind: string; superseded: boolean };
}

/** The request that started an operation, as its "…Requested" event recorded it. */
export interface RequestSeen {
  actor: string;
  timeMs: number;
}

export function title(verb: string): string {
  return `${verb.charAt(0).toUpperCase()}${verb.slice(1)}`;
}

function phaseName(phase: Phase): string {
  return title((Phase[phase] ?? "UNSPECIFIED").toLowerCase());
}

function conditionsOf(vcluster: VCluster | undefined): Map<string, string> {
  return new Map((vcluster?.status?.conditions ?? []).map((c) => [c.type, c.status]));
}

function ref(vcluster: VCluster): string {
  return `${vcluster.namespace}/${vcluster.name}`;
}

/** "XRequested": who asked for the change that this transaction begins. */
export function requested(
  verb: string,
  vcluster: VCluster,
  actor: string,
  timeMs: number,
  operationId: string,
): EventInit {
  return {
    time: timestampFromMs(timeMs),
    type: "Normal",
    reason: `${title(verb)}Requested`,
    message: `${actor || "someone"} asked to ${verb} ${ref(vcluster)}`,
    actor,
    operation: verb,
    operationId,
  };
}

/** "XRefused": a request about an existing vcluster that changed nothing. */
export function refused(verb: string, actor: string, startedAtMs: number, nowMs: number, message: string): EventInit {
  return {
    time: timestampFromMs(nowMs),
    type: "Warning",
    reason: `${title(verb)}Refused`,
    message,
    actor,
    operation: verb,
    outcome: "Failed",
    duration: durationFromMs(nowMs - startedAtMs),
  };
}

/** "XSucceeded" / "XFailed": the end of an operation, with who asked and how long it took. */
export function finished(
  verb: string,
  vcluster: VCluster,
  operationId: string,
  request: RequestSeen | undefined,
  failed: boolean,
  detail: string,
  nowMs: number,
): EventInit {
  const outcome = failed ? "Failed" : "Succeeded";
  const took = request ? nowMs - request.timeMs : undefined;
  const after = took === undefined ? "" : ` after ${(took / 1000).toFixed(1)} s`;
  return {
    time: timestampFromMs(nowMs),
    type: failed ? "Warning" : "Normal",
    reason: `${title(verb)}${outcome}`,
    message: `${title(verb)} of ${ref(vcluster)} ${failed ? "failed" : "succeeded"}${after}${detail ? `: ${detail}` : ""}`,
    actor: request?.actor ?? "",
    operation: verb,
    operationId,
    outcome,
    ...(took === undefined ? {} : { duration: durationFromMs(took) }),
  };
}

/** Whether the vcluster after an operation says the operation did not do what was asked. */
export function endedInFailure(vcluster: VCluster): boolean {
  const status = vcluster.status;
  return status?.phase === Phase.ERROR || /Failed$/.test(status?.reason ?? "");
}

/** The phase and condition transitions between two states of a vcluster. */
export function transitions(before: VCluster | undefined, after: VCluster, nowMs: number): EventInit[] {
  if (!before) return [];
  const events: EventInit[] = [];
  const time = timestampFromMs(nowMs);
  const from = before.status?.phase ?? Phase.UNSPECIFIED;
  const to = after.status?.phase ?? Phase.UNSPECIFIED;
  if (from !== to) {
    const message = after.status?.message ? `: ${after.status.message}` : "";
    events.push({
      time,
      type: to === Phase.ERROR ? "Warning" : "Normal",
      reason: "PhaseChanged",
      message: `${phaseName(from)} → ${phaseName(to)}${message}`,
      fromPhase: from,
      toPhase: to,
    });
  }
  const was = conditionsOf(before);
  for (const condition of after.status?.conditions ?? []) {
    const previous = was.get(condition.type);
    if (previous === condition.status) continue;
    events.push({
      time,
      type: "Normal",
      reason: "ConditionChanged",
      message: `${condition.type} ${previous ?? "absent"} → ${condition.status}${condition.reason ? ` (${condition.reason})` : ""}`,
      conditionType: condition.type,
      conditionStatus: condition.status,
    });
  }
  return events;
}

export function eventOf(init: EventInit, sequence: number): VClusterEvent {
  return create(VClusterEventSchema, { ...init, sequence: BigInt(sequence) });
}
