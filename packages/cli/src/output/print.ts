import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import type { OutputStream } from "../io.js";
import type { OutputFormat } from "./format.js";
import { messageJson, renderJson, renderYaml } from "./structured.js";
import { type Column, renderTable, visibleColumns } from "./table.js";

export interface PrintSpec<Desc extends DescMessage> {
  schema: Desc;
  columns: Column<MessageShape<Desc>>[];
  format: OutputFormat;
  now?: Date;
}

function renderStructured(format: "json" | "yaml", value: JsonValue): string {
  return format === "json" ? renderJson(value) : renderYaml(value);
}

/** Prints one object: a one-row table, or its proto JSON / YAML. */
export function printOne<Desc extends DescMessage>(out: OutputStream, spec: PrintSpec<Desc>, item: MessageShape<Desc>) {
  printMany(out, spec, [item], { single: true });
}

/** Prints a list; JSON and YAML wrap it as `{ items: [...] }` so the output is one document. */
export function printMany<Desc extends DescMessage>(
  out: OutputStream,
  spec: PrintSpec<Desc>,
  items: MessageShape<Desc>[],
  options: { single?: boolean; emptyMessage?: string; errors?: OutputStream } = {},
) {
  const { format, schema } = spec;
  if (format === "json" || format === "yaml") {
    const values = items.map((item) => messageJson(schema, item));
    const document: JsonValue = options.single && values[0] !== undefined ? values[0] : { items: values };
    out.write(renderStructured(format, document));
    return;
  }
  if (items.length === 0) {
    // kubectl's habit: the note goes to stderr so a pipeline sees an empty table, not prose.
    (options.errors ?? out).write(`${options.emptyMessage ?? "No resources found."}\n`);
    return;
  }
  const columns = visibleColumns(spec.columns, format === "wide");
  out.write(renderTable(columns, items, spec.now ?? new Date()));
}
