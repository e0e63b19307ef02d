import type { JsonValue } from "@bufbuild/protobuf";
import { selectAll } from "./jsonpath.js";

type Key = { kind: 0 } | { kind: 1; number: number } | { kind: 2; text: string };

function keyOf(values: JsonValue[]): Key {
  const [value] = values;
  if (value === undefined || value === null) return { kind: 0 };
  if (typeof value === "number") return { kind: 1, number: value };
  // Quantities and int64 counts arrive as strings in the JSON form; order them as numbers.
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return { kind: 1, number: Number(value) };
  return { kind: 2, text: typeof value === "string" ? value : JSON.stringify(value) };
}

function compare(a: Key, b: Key): number {
  if (a.kind !== b.kind) return a.kind - b.kind;
  if (a.kind === 1 && b.kind === 1) return a.number - b.number;
  if (a.kind === 2 && b.kind === 2) return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  return 0;
}

/**
 * kubectl's `--sort-by`: items ordered by the value a JSONPath selects in their JSON form;
 * items without a value come first, and the sort is stable. Timestamps sort correctly as text
 * because the JSON form writes them in RFC 3339 UTC.
 */
export function sortByExpression<T>(items: T[], json: (item: T) => JsonValue, expression: string): T[] {
  const keyed = items.map((item) => ({ item, key: keyOf(selectAll(json(item), expression, "--sort-by")) }));
  return keyed.sort((a, b) => compare(a.key, b.key)).map((entry) => entry.item);
}
