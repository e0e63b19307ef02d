import { UsageError } from "./errors.js";

const unitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses Go-style durations as kubectl accepts them ("500ms", "30s", "5m", "1h30m"); a bare
 * number means seconds.
 */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== trimmed) {
    throw new UsageError(`${flag}: invalid duration "${text}" (use e.g. 30s, 5m, 1h30m)`);
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * (unitsMs[unit ?? "s"] ?? 1000), 0);
}
