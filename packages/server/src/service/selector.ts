import { LabelSelectorError, parseLabelSelector } from "@open-vcluster/core";
import { invalidField } from "../errors.js";
import type { LabelPredicate } from "../store/index.js";

/**
 * Compiles a selector for the store; an empty one filters nothing. The predicate carries the
 * parsed requirements so a store can evaluate them natively (SQLite does, in SQL).
 */
export function compileSelector(text: string, field: string): LabelPredicate | undefined {
  if (text.trim() === "") return undefined;
  try {
    const selector = parseLabelSelector(text);
    return Object.assign((labels: Record<string, string>) => selector.matches(labels), {
      requirements: selector.requirements,
    });
  } catch (error) {
    if (error instanceof LabelSelectorError) throw invalidField(field, error.message);
    throw error;
  }
}
