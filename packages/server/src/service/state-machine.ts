import { Code } from "@connectrpc/connect";
import { Phase, type VCluster } from "@open-vcluster/api";
import { apiError } from "../errors.js";
import type { OperationKind } from "../provider/index.js";
import type { PendingOperation } from "./annotations.js";

/**
 * The vcluster lifecycle as one table: what each mutation may start from, the phase while its
 * operation runs, and where it ends. Handlers check requests against it (`requireAllowed`,
 * `beginOperation`), and the table in docs/server/lifecycle.md is rendered from it
 * (`renderLifecycleTable`; a test keeps the two equal).
 */
export type Action =
  | "create"
  | "update"
  | "updateLabels"
  | "scale"
  | "suspend"
  | "resume"
  | "snapshot"
  | "restore"
  | "restoreNew"
  | "delete"
  | "kubeconfig";

export interface Transition {
  /** The row's name in the docs. */
  title: string;
  /** What the FAILED_PRECONDITION message says the caller cannot do. */
  verb: string;
  /** Phases the action is accepted in; empty = it needs no existing vcluster. */
  allowedFrom: readonly Phase[];
  /** Said in the docs after the phases (special cases the handler checks itself). */
  allowedNote?: string;
  /** The background operation it starts; none = it completes within the request. */
  operation?: OperationKind;
  whileRunning: string;
  result: string;
}

const { RUNNING, SUSPENDED, ERROR, PENDING } = Phase;

export const LIFECYCLE: Readonly<Record<Action, Transition>> = {
  create: {
    title: "Create",
    verb: "create",
    allowedFrom: [],
    operation: "create",
    whileRunning: "`PENDING` while provisioning capacity is used up, then `CREATING`",
    result: "`RUNNING`",
  },
  update: {
    title: "Update (spec change)",
    verb: "update",
    allowedFrom: [RUNNING, ERROR],
    operation: "update",
    whileRunning: "`UPDATING`",
    result: "`RUNNING`, Helm revision + 1",
  },
  updateLabels: {
    title: "Update (labels only)",
    verb: "update labels",
    allowedFrom: [RUNNING, SUSPENDED, ERROR],
    whileRunning: "— (immediate)",
    result: "unchanged phase",
  },
  scale: {
    title: "Scale",
    verb: "scale",
    allowedFrom: [RUNNING, ERROR],
    operation: "scale",
    whileRunning: "`SCALING`",
    result: "`RUNNING`, Helm revision + 1",
  },
  suspend: {
    title: "Suspend",
    verb: "suspend",
    allowedFrom: [RUNNING],
    operation: "suspend",
    whileRunning: "`RUNNING` (not ready, operation in progress) or `SNAPSHOTTING` first with `create_snapshot`",
    result: "`SUSPENDED`",
  },
  resume: {
    title: "Resume",
    verb: "resume",
    allowedFrom: [SUSPENDED],
    allowedNote: "(or `ERROR` while still paused)",
    operation: "resume",
    whileRunning: "`RESUMING`",
    result: "`RUNNING`",
  },
  snapshot: {
    title: "Snapshot",
    verb: "take a snapshot",
    allowedFrom: [RUNNING],
    operation: "snapshot",
    whileRunning: "`SNAPSHOTTING`; snapshot `CREATING`",
    result: "`RUNNING`; snapshot `READY`",
  },
  restore: {
    title: "Restore in place",
    verb: "restore",
    allowedFrom: [RUNNING, SUSPENDED, ERROR],
    operation: "restore",
    whileRunning: "`RESTORING` (spec and labels are the snapshot's)",
    result: "`RUNNING`, Helm revision + 1",
  },
  restoreNew: {
    title: "Restore `create_new`",
    verb: "restore into a new vcluster",
    allowedFrom: [],
    allowedNote: "snapshot `READY`",
    operation: "create",
    whileRunning: "new vcluster `CREATING`",
    result: "`RUNNING`",
  },
  delete: {
    title: "Delete",
    verb: "delete without force",
    allowedFrom: [RUNNING, SUSPENDED, ERROR, PENDING],
    allowedNote: "; any phase with `force`",
    operation: "delete",
    whileRunning: "`DELETING`",
    result: "removed (DELETED watch event)",
  },
  kubeconfig: {
    title: "Get kubeconfig",
    verb: "issue a kubeconfig",
    allowedFrom: [RUNNING],
    whileRunning: "— (immediate)",
    result: "unchanged phase",
  },
};

/** Phase, reason and message while an operation of each kind runs. */
export const IN_PROGRESS: Readonly<
  Record<OperationKind, { phase: Phase | undefined; reason: string; message: string }>
> = {
  create: { phase: Phase.CREATING, reason: "Creating", message: "Installing the vcluster Helm release" },
  update: { phase: Phase.UPDATING, reason: "Updating", message: "Upgrading the vcluster Helm release" },
  scale: { phase: Phase.SCALING, reason: "Scaling", message: "Resizing the control plane" },
  // Suspending has no phase of its own in the contract: the vcluster stays RUNNING (not
  // ready) with an operation in progress that blocks other mutations until it is SUSPENDED.
  suspend: { phase: undefined, reason: "Suspending", message: "Stopping the control plane" },
  resume: { phase: Phase.RESUMING, reason: "Resuming", message: "Starting the control plane" },
  snapshot: { phase: Phase.SNAPSHOTTING, reason: "Snapshotting", message: "Capturing the backing store" },
  restore: { phase: Phase.RESTORING, reason: "Restoring", message: "Restoring from snapshot" },
  delete: { phase: Phase.DELETING, reason: "Deleting", message: "Uninstalling the vcluster Helm release" },
};

/** Phases in which work is under way; a vcluster in one of them accepts no other mutation. */
export const TRANSITIONAL_PHASES: ReadonlySet<Phase> = new Set([
  Phase.PENDING,
  ...Object.values(IN_PROGRESS).flatMap((step) => (step.phase === undefined ? [] : [step.phase])),
]);

export function phaseName(phase: Phase): string {
  return `PHASE_${Phase[phase] ?? "UNSPECIFIED"}`;
}

export function currentPhase(vcluster: VCluster): Phase {
  return vcluster.status?.phase ?? Phase.UNSPECIFIED;
}

/**
 * Rejects an action the lifecycle does not allow from the current phase, or while another
 * operation is still running (suspend runs without a phase of its own). The error names the
 * current phase in its message and in metadata["phase"].
 */
export function requireAllowed(action: Action, vcluster: VCluster, running: PendingOperation | undefined): void {
  const { allowedFrom, verb } = LIFECYCLE[action];
  const phase = currentPhase(vcluster);
  if (allowedFrom.includes(phase) && !running) return;
  const allowedNames = allowedFrom.map(phaseName).join(", ");
  const busy = running ? ` (operation ${running.kind} ${running.id} in progress)` : "";
  throw apiError(
    Code.FailedPrecondition,
    "FAILED_PRECONDITION",
    `vcluster ${vcluster.namespace}/${vcluster.name} is ${phaseName(phase)}${busy}; cannot ${verb} (allowed from ${allowedNames})`,
    {
      metadata: {
        phase: phaseName(phase),
        allowed_phases: allowedNames,
        ...(running ? { pending_operation: running.kind } : {}),
      },
    },
  );
}

/** The docs' table of phases and transitions, as Markdown. */
export function renderLifecycleTable(): string {
  const rows = Object.values(LIFECYCLE)
    .filter((t) => t.title !== LIFECYCLE.kubeconfig.title)
    .map((t) => {
      const phases = t.allowedFrom.map((p) => `\`${Phase[p]}\``).join(", ");
      const allowed = [phases, t.allowedNote ?? ""]
        .filter(Boolean)
        .join(phases && t.allowedNote?.startsWith(";") ? "" : " ");
      return [t.title, allowed || "—", t.whileRunning, t.result];
    });
  const header = ["Operation", "Allowed from", "While running", "Result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
