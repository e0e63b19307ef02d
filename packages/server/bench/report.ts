/**
 * One row of the bench's summary table: every performance target the server commits to, measured
 * side by side in one run. Sections (list, create, watch, wire, bundle) return rows; `run.ts`
 * prints them together.
 */
export interface TargetRow {
  /** Target id, e.g. "P2" (several rows may share one id). */
  id: string;
  /** What was measured, e.g. "ListVClusters 1% selector, deep page, SQLite". */
  what: string;
  /** What the figure is compared against, e.g. "same at 1k" or "@grpc/grpc-js". */
  contender: string;
  /** The measured figure with its unit, e.g. "1.9 ms p50" or "21 400 calls/s". */
  figure: string;
  /** The figure over the contender's, as the target reads it, e.g. "1.3×"; "-" when absolute. */
  ratio: string;
  /** The target as written, e.g. "≤ 2×" or "≤ 50 ms p99". */
  target: string;
  /** Whether the target was met in this run; null for a figure reported without a target. */
  met: boolean | null;
}

/** Formats a ratio for a TargetRow. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return "∞";
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`;
}

/** The one summary table's cells of a row. */
export function rowCells(row: TargetRow): string[] {
  return [
    row.id,
    row.what,
    row.contender,
    row.figure,
    row.ratio,
    row.target,
    row.met === null ? "-" : row.met ? "yes" : "NO",
  ];
}

export const ROW_HEADERS = ["#", "what", "contender", "figure", "ratio", "target", "met"];
