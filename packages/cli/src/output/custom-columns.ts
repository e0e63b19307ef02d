import type { JsonValue } from "@bufbuild/protobuf";
import { UsageError } from "../errors.js";
import { selectAll } from "./jsonpath.js";
import { humanizePhases } from "./phase-names.js";

export interface CustomColumn {
  header: string;
  expression: string;
}

/** `HEADER:.path,OTHER:.path` as kubectl's `-o custom-columns=` takes it. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  const columns = spec.split(",").map((part) => {
    const colon = part.indexOf(":");
    const header = colon < 0 ? "" : part.slice(0, colon).trim();
    const expression = colon < 0 ? "" : part.slice(colon + 1).trim();
    if (!header || !expression) {
      throw new UsageError(
        `-o custom-columns: expected HEADER:PATH, got "${part}" (e.g. NAME:.name,PHASE:.status.phase)`,
      );
    }
    // Checked once here, so a bad path fails before anything is printed.
    selectAll({}, expression, `-o custom-columns ${header}`);
    return { header, expression };
  });
  return columns;
}

/** One cell: what the path selects, several values comma-separated, `<none>` when nothing. */
export function customCell(value: JsonValue, column: CustomColumn): string {
  const selected = selectAll(value, column.expression, `-o custom-columns ${column.header}`).filter(
    (v) => v !== null && v !== "",
  );
  if (selected.length === 0) return "<none>";
  // A table is for people: phases read as in every other table ("Running", not "PHASE_RUNNING").
  return humanizePhases(selected.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(","));
}
