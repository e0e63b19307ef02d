import Table from "cli-table3";

/** One column of a table; `wide` columns appear only with -o wide. */
export interface Column<T> {
  header: string;
  value(item: T, now: Date): string;
  wide?: boolean;
}

// kubectl's look: no borders, upper-case headers, three spaces between columns.
const borderless = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "",
};
const style = { head: [], border: [], "padding-left": 0, "padding-right": 3, compact: true };
const COLUMN_GAP = 3;

export function visibleColumns<T>(columns: Column<T>[], wide: boolean): Column<T>[] {
  return columns.filter((column) => wide || !column.wide);
}

function render(rows: string[][], colWidths?: number[]): string {
  const table = new Table({ chars: borderless, style, ...(colWidths ? { colWidths } : {}) });
  table.push(...rows);
  // Trailing padding is invisible noise that breaks `awk`-style parsing of the last column.
  return `${table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")}\n`;
}

export function renderTable<T>(columns: Column<T>[], items: T[], now: Date): string {
  const rows = items.map((item) => columns.map((column) => column.value(item, now)));
  return render([columns.map((column) => column.header), ...rows]);
}

/**
 * Renders rows one at a time for streams (watch): widths are fixed by the header and first row
 * and only grow when a later value would not fit, as kubectl's watch output does.
 */
export class StreamingTable<T> {
  private widths: number[] | undefined;

  constructor(private readonly columns: Column<T>[]) {}

  header(sample: T, now: Date): string {
    const cells = this.columns.map((column) => column.value(sample, now));
    this.widths = this.columns.map((column, i) => Math.max(column.header.length, (cells[i] ?? "").length) + COLUMN_GAP);
    return render([this.columns.map((column) => column.header)], this.widths);
  }

  row(item: T, now: Date): string {
    const cells = this.columns.map((column) => column.value(item, now));
    const widths = (this.widths ?? []).map((width, i) => Math.max(width, (cells[i] ?? "").length + COLUMN_GAP));
    return render([cells], widths);
  }
}
