import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import type { OutputStream } from "../io.js";
import { customCell, parseCustomColumns } from "./custom-columns.js";
import type { OutputFormat } from "./format.js";
import { JsonPathTemplate } from "./jsonpath.js";
import { sortByExpression } from "./sort-by.js";
import { messageJson, renderJson, renderYaml } from "./structured.js";
import { type Column, renderTable, visibleColumns } from "./table.js";

export interface PrintSpec<Desc extends DescMessage> {
  schema: Desc;
  /** The resource kind `-o name` prints, e.g. "vcluster". */
  kind: string;
  columns: Column<MessageShape<Desc>>[];
  format: OutputFormat;
  now?: Date;
  /** Tables without their header line (`--no-headers`). */
  noHeaders?: boolean;
  /** A JSONPath over the JSON form to order the items by (`--sort-by`). */
  sortBy?: string;
}

/** Prints one object: a one-row table, its proto JSON / YAML, or a template over that JSON. */
export function printOne<Desc extends DescMessage>(out: OutputStream, spec: PrintSpec<Desc>, item: MessageShape<Desc>) {
  printMany(out, spec, [item], { single: true });
}

/** Prints a list; JSON, YAML and JSONPath see it as `{ items: [...] }`, as kubectl shows a List. */
export function printMany<Desc extends DescMessage>(
  out: OutputStream,
  spec: PrintSpec<Desc>,
  unsorted: MessageShape<Desc>[],
  options: { single?: boolean; emptyMessage?: string; errors?: OutputStream } = {},
) {
  const { format, schema } = spec;
  const json = (item: MessageShape<Desc>) => messageJson(schema, item);
  const items = spec.sortBy ? sortByExpression(unsorted, json, spec.sortBy) : unsorted;
  const document = (): JsonValue => {
    const values = items.map(json);
    return options.single && values[0] !== undefined ? values[0] : { items: values };
  };
  if (format === "json") return void out.write(renderJson(document()));
  if (format === "yaml") return void out.write(renderYaml(document()));
  if (format.startsWith("jsonpath=")) {
    const template = JsonPathTemplate.parse(format.slice("jsonpath=".length), "-o jsonpath");
    const text = template.render(document());
    return void out.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
  }
  if (items.length === 0) {
    // kubectl's habit: the note goes to stderr so a pipeline sees an empty table, not prose.
    (options.errors ?? out).write(`${options.emptyMessage ?? "No resources found."}\n`);
    return;
  }
  if (format === "name") {
    out.write(items.map((item) => `${spec.kind}/${(item as { name?: string }).name ?? ""}\n`).join(""));
    return;
  }
  const now = spec.now ?? new Date();
  const tableOptions = { noHeaders: spec.noHeaders === true };
  if (format.startsWith("custom-columns=")) {
    const custom = parseCustomColumns(format.slice("custom-columns=".length));
    const columns: Column<JsonValue>[] = custom.map((c) => ({ header: c.header, value: (v) => customCell(v, c) }));
    out.write(renderTable(columns, items.map(json), now, tableOptions));
    return;
  }
  const columns = visibleColumns(spec.columns, format === "wide");
  out.write(renderTable(columns, items, now, tableOptions));
}
