import { performance } from "node:perf_hooks";

export interface Summary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** Nearest-rank percentiles of durations in milliseconds. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0, count: sorted.length };
}

export interface SampleOptions {
  /** Untimed calls first, so JIT warm-up and caches do not land in the numbers. */
  warmup?: number;
  minReps?: number;
  maxReps?: number;
  /** Stop after this much measured time once minReps are done. */
  budgetMs?: number;
}

/** Times `fn` repeatedly (sequentially) and returns the durations in milliseconds. */
export async function sample(fn: () => unknown, options: SampleOptions = {}): Promise<number[]> {
  const { warmup = 3, minReps = 5, maxReps = 40, budgetMs = 1500 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const durations: number[] = [];
  const started = performance.now();
  while (durations.length < maxReps && (durations.length < minReps || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await fn();
    durations.push(performance.now() - t0);
  }
  return durations;
}

export function ms(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** A plain-text table with right-aligned numeric columns, as Markdown so it pastes into docs. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[-\d.,×x/ ]*$/.test(r[i] ?? "")));
  const cell = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0));
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/** Runs a full collection when the process was started with --expose-gc (the bench script does). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}
