import { LabelSelectorError, parseLabelSelector } from "@open-vcluster/core";
import { invalidField } from "../errors.js";

/** Compiles a selector for the store; an empty one filters nothing. */
export function compileSelector(
  text: string,
  field: string,
): ((labels: Record<string, string>) => boolean) | undefined {
  if (text.trim() === "") return undefined;
  try {
    const selector = parseLabelSelector(text);
    return (labels) => selector.matches(labels);
  } catch (error) {
    if (error instanceof LabelSelectorError) throw invalidField(field, error.message);
    throw error;
  }
}
