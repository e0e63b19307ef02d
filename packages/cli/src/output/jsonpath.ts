import type { JsonValue } from "@bufbuild/protobuf";
import { JSONPath } from "jsonpath-plus";
import { UsageError } from "../errors.js";

type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "path"; path: string }
  | { kind: "range"; path: string; body: TemplateNode[] };

/**
 * kubectl's JSONPath templates: literal text with `{path}` expressions, `{range path}…{end}`
 * loops and quoted literals such as `{"\n"}`. The expressions themselves are evaluated by
 * jsonpath-plus; this is only the template language kubectl wraps around them.
 */
export class JsonPathTemplate {
  private constructor(private readonly nodes: TemplateNode[]) {}

  /** `flag` names where the template came from, for the error message. */
  static parse(template: string, flag: string): JsonPathTemplate {
    // A bare expression is accepted as kubectl's relaxed form: ".name" means "{.name}".
    const text = template.includes("{") ? template : `{${template}}`;
    const root: TemplateNode[] = [];
    const stack: TemplateNode[][] = [root];
    let i = 0;
    while (i < text.length) {
      const open = text.indexOf("{", i);
      const top = stack.at(-1) ?? root;
      if (open < 0) {
        top.push({ kind: "text", text: text.slice(i) });
        break;
      }
      if (open > i) top.push({ kind: "text", text: text.slice(i, open) });
      const close = closingBrace(text, open);
      if (close < 0)
        throw new UsageError(`${flag}: unclosed "{" at position ${open + 1} in ${JSON.stringify(template)}`);
      const inner = text.slice(open + 1, close).trim();
      i = close + 1;
      if (inner === "end") {
        if (stack.length === 1) throw new UsageError(`${flag}: {end} without {range} in ${JSON.stringify(template)}`);
        stack.pop();
      } else if (inner.startsWith("range ")) {
        const node: TemplateNode = { kind: "range", path: toJsonPath(inner.slice(6).trim(), flag), body: [] };
        top.push(node);
        stack.push(node.body);
      } else if (/^(["']).*\1$/s.test(inner)) {
        top.push({ kind: "text", text: unquote(inner) });
      } else {
        top.push({ kind: "path", path: toJsonPath(inner, flag) });
      }
    }
    if (stack.length > 1) throw new UsageError(`${flag}: {range} without {end} in ${JSON.stringify(template)}`);
    return new JsonPathTemplate(root);
  }

  render(value: JsonValue): string {
    return renderNodes(this.nodes, value);
  }
}

/** Every value an expression selects (kubectl's relaxed form: ".a.b", "{.a.b}" or "$.a.b"). */
export function selectAll(value: JsonValue, expression: string, flag: string): JsonValue[] {
  const inner = expression.trim().replace(/^\{(.*)\}$/s, "$1");
  return query(toJsonPath(inner, flag), value);
}

/** A selected value as text: strings bare, everything else as JSON, several separated by spaces. */
export function valueText(values: JsonValue[]): string {
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(" ");
}

function renderNodes(nodes: TemplateNode[], value: JsonValue): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "path") out += valueText(query(node.path, value));
    else {
      const selected = query(node.path, value);
      // `{range .items}` and `{range .items[*]}` both loop over the elements.
      const elements = selected.length === 1 && Array.isArray(selected[0]) ? selected[0] : selected;
      for (const element of elements) out += renderNodes(node.body, element);
    }
  }
  return out;
}

function query(path: string, value: JsonValue): JsonValue[] {
  if (path === "$") return [value];
  const result = JSONPath({ path, json: value as object, wrap: true, eval: "safe" }) as JsonValue[] | undefined;
  return result ?? [];
}

function toJsonPath(expression: string, flag: string): string {
  const trimmed = expression.trim();
  if (trimmed === "" || trimmed === "." || trimmed === "@") return "$";
  if (trimmed.startsWith("$")) return trimmed;
  if (trimmed.startsWith(".") || trimmed.startsWith("[")) return `$${trimmed}`;
  if (trimmed.startsWith("@")) return `$${trimmed.slice(1)}`;
  throw new UsageError(`${flag}: "${expression}" is not a JSONPath expression (start it with ".", e.g. .status.phase)`);
}

function closingBrace(text: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "}") return i;
  }
  return -1;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" })[c] ?? c);
}
