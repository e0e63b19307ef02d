import { Phase, Phases } from "@open-vcluster/api";

const LABELS: Record<Phase, string> = {
  [Phase.UNSPECIFIED]: "Unknown",
  [Phase.PENDING]: "Pending",
  [Phase.CREATING]: "Creating",
  [Phase.RUNNING]: "Running",
  [Phase.SUSPENDED]: "Suspended",
  [Phase.SCALING]: "Scaling",
  [Phase.DELETING]: "Deleting",
  [Phase.ERROR]: "Error",
  [Phase.UPDATING]: "Updating",
  [Phase.RESTORING]: "Restoring",
  [Phase.SNAPSHOTTING]: "Snapshotting",
  [Phase.RESUMING]: "Resuming",
};

export function phaseLabel(phase: Phase): string {
  return LABELS[phase] ?? "Unknown";
}

/**
 * The server writes phases in the API's enum spelling ("is PHASE_SUSPENDED; allowed from
 * PHASE_RUNNING"); the console shows them as its badges do, so a phase reads one way on a page.
 */
export function withPhaseLabels(text: string): string {
  return text.replace(/\bPHASE_([A-Z]+)\b/g, (match, name: string) => {
    const phase = Phase[name as keyof typeof Phase];
    return typeof phase === "number" ? phaseLabel(phase) : match;
  });
}

/** Phases in which an operation is under way (not settled, in the contract's terms), shown with a moving indicator. */
export function isTransitional(phase: Phase): boolean {
  return phase !== Phase.UNSPECIFIED && !Phases.settled.has(phase);
}

/** Every phase a user may filter on, in lifecycle order. */
export const FILTERABLE_PHASES: Phase[] = [
  Phase.PENDING,
  Phase.CREATING,
  Phase.RUNNING,
  Phase.UPDATING,
  Phase.SCALING,
  Phase.SNAPSHOTTING,
  Phase.RESTORING,
  Phase.SUSPENDED,
  Phase.RESUMING,
  Phase.DELETING,
  Phase.ERROR,
];
