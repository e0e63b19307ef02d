import Table from "cli-table3";

/** One column of a table; `wide` columns appear only with -o wide. */
export interface Column<T> {
  header: string;
  value(item: T, now: Date): string;
  wide?: boolean;
  /** Width the column always gets in streams, e.g. the longest phase name, so rows stay aligned. */
  minWidth?: number;
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

export function renderTable<T>(
  columns: Column<T>[],
  items: T[],
  now: Date,
  options: { noHeaders?: boolean } = {},
): string {
  const rows = items.map((item) => columns.map((column) => column.value(item, now)));
  return render(options.noHeaders ? rows : [columns.map((column) => column.header), ...rows]);
}

/**
 * Renders rows one at a time for streams (watch). The widths are fixed when the header is
 * printed, from the rows known by then (a watch's whole initial state) and each column's
 * minimum, so the rows that follow line up under it; a later value too long for its column
 * widens only its own row, because a printed header cannot move.
 */
export class StreamingTable<T> {
  private widths: number[] | undefined;

  constructor(
    private readonly columns: Column<T>[],
    private readonly options: { noHeaders?: boolean } = {},
  ) {}

  get started(): boolean {
    return this.widths !== undefined;
  }

  /** The header (unless --no-headers) and the first rows, which decide the widths. */
  start(first: T[], now: Date): string {
    const rows = first.map((item) => this.cells(item, now));
    this.widths = this.columns.map(
      (column, i) =>
        Math.max(column.header.length, column.minWidth ?? 0, ...rows.map((row) => (row[i] ?? "").length)) + COLUMN_GAP,
    );
    const lines = this.options.noHeaders ? rows : [this.columns.map((column) => column.header), ...rows];
    return lines.length === 0 ? "" : render(lines, this.widths);
  }

  row(item: T, now: Date): string {
    if (!this.widths) return this.start([item], now);
    const cells = this.cells(item, now);
    const widths = this.widths.map((width, i) => Math.max(width, (cells[i] ?? "").length + COLUMN_GAP));
    return render([cells], widths);
  }

  private cells(item: T, now: Date): string[] {
    return this.columns.map((column) => column.value(item, now));
  }
}
