import { validateLabelKey, validateLabelValue } from "@open-vcluster/core";
import { UsageError } from "../errors.js";

export interface LabelChanges {
  set: Record<string, string>;
  /** Keys given as `key-`, kubectl's way of removing a label. */
  remove: string[];
}

/** Parses repeated `--label key=value` (and, where removal makes sense, `--label key-`). */
export function parseLabelFlags(values: string[] | undefined, allowRemoval: boolean): LabelChanges {
  const changes: LabelChanges = { set: {}, remove: [] };
  for (const text of values ?? []) {
    const eq = text.indexOf("=");
    if (eq < 0) {
      if (allowRemoval && text.endsWith("-") && text.length > 1) {
        changes.remove.push(text.slice(0, -1));
        continue;
      }
      throw new UsageError(`--label: expected key=value${allowRemoval ? " or key-" : ""}, got "${text}"`);
    }
    const key = text.slice(0, eq);
    const value = text.slice(eq + 1);
    const problem = validateLabelKey(key) ?? validateLabelValue(value);
    if (problem) throw new UsageError(`--label ${text}: ${problem}`);
    changes.set[key] = value;
  }
  return changes;
}

/** The labels after applying the changes to the current ones. */
export function applyLabelChanges(current: Record<string, string>, changes: LabelChanges): Record<string, string> {
  const next = { ...current, ...changes.set };
  for (const key of changes.remove) delete next[key];
  return next;
}
