import { Phase } from "@open-vcluster/api";
import { titleCase } from "./humanize.js";

/** How people read a phase everywhere the CLI writes for them: "Running", "Suspended". */
export function phaseName(phase: Phase): string {
  return titleCase(Phase[phase] ?? "UNSPECIFIED");
}

/** The longest phase name, so a column of phases never changes width. */
export const LONGEST_PHASE_NAME = Math.max(
  ...Object.values(Phase)
    .filter((value): value is Phase => typeof value === "number")
    .map((phase) => phaseName(phase).length),
);

/**
 * Rewrites the API's enum spellings in server and SDK messages ("PHASE_SUSPENDED", "phase
 * RUNNING") to the names tables use, so one phase reads the same in a table and an error.
 */
export function humanizePhases(text: string): string {
  return text
    .replace(/\bPHASE_([A-Z]+)\b/g, (_, name: string) => titleCase(name))
    .replace(/\bphase ([A-Z]{4,})\b/g, (match, name: string) => (name in Phase ? `phase ${titleCase(name)}` : match));
}
