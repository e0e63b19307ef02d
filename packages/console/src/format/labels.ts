/** Result of reading labels typed as "key=value" pairs separated by commas or new lines. */
export type ParsedLabels = { labels: Record<string, string> } | { error: string };

/**
 * Reads the label field of the forms. Only the shape is checked here; the server validates keys
 * and values and its message, naming the label, is what the user sees.
 */
export function parseLabelInput(text: string): ParsedLabels {
  const labels: Record<string, string> = {};
  for (const entry of text.split(/[,\n]/)) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    const equals = trimmed.indexOf("=");
    if (equals <= 0) return { error: `"${trimmed}" is not key=value` };
    labels[trimmed.slice(0, equals).trim()] = trimmed.slice(equals + 1).trim();
  }
  return { labels };
}

/** Labels in the form `parseLabelInput` reads, one pair a line in key order, for editing. */
export function formatLabelInput(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}
