import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { customCell, parseCustomColumns } from "./custom-columns.js";
import { JsonPathTemplate } from "./jsonpath.js";
import { sortByExpression } from "./sort-by.js";

const list: { items: JsonObject[] } = {
  items: [
    { name: "web", status: { phase: "PHASE_RUNNING", readyReplicas: 3 }, labels: { tier: "web" } },
    { name: "api", status: { phase: "PHASE_SUSPENDED" } },
  ],
};

describe("kubectl JSONPath templates", () => {
  it("renders paths, ranges and quoted literals", () => {
    const template = JsonPathTemplate.parse('{range .items[*]}{.name}{"\\t"}{.status.phase}{"\\n"}{end}', "-o");
    expect(template.render(list)).toBe("web\tPHASE_RUNNING\napi\tPHASE_SUSPENDED\n");
    expect(JsonPathTemplate.parse("{.items[*].name}", "-o").render(list)).toBe("web api");
    expect(JsonPathTemplate.parse("names: {.items[0].name}", "-o").render(list)).toBe("names: web");
  });

  it("accepts a bare expression and prints nothing for a missing key", () => {
    expect(JsonPathTemplate.parse(".items[1].name", "-o").render(list)).toBe("api");
    expect(JsonPathTemplate.parse("{.items[1].status.readyReplicas}", "-o").render(list)).toBe("");
  });

  it("rejects unbalanced templates naming the flag", () => {
    expect(() => JsonPathTemplate.parse("{.name", "-o jsonpath")).toThrow(/-o jsonpath: unclosed/);
    expect(() => JsonPathTemplate.parse("{range .items[*]}{.name}", "-o jsonpath")).toThrow(/without \{end\}/);
    expect(() => JsonPathTemplate.parse("{end}", "-o jsonpath")).toThrow(UsageError);
    expect(() => JsonPathTemplate.parse("{name}", "-o jsonpath")).toThrow(/start it with "\."/);
  });
});

describe("custom columns", () => {
  it("selects one cell per column, phases as tables spell them, <none> when absent", () => {
    const columns = parseCustomColumns("NAME:.name,PHASE:.status.phase,READY:.status.readyReplicas");
    expect(columns.map((c) => c.header)).toEqual(["NAME", "PHASE", "READY"]);
    const [web, api] = list.items;
    expect(columns.map((c) => customCell(web ?? {}, c))).toEqual(["web", "Running", "3"]);
    expect(columns.map((c) => customCell(api ?? {}, c))).toEqual(["api", "Suspended", "<none>"]);
  });

  it("rejects a column without header or path", () => {
    expect(() => parseCustomColumns("NAME")).toThrow(/HEADER:PATH/);
    expect(() => parseCustomColumns("NAME:")).toThrow(/HEADER:PATH/);
  });
});

describe("--sort-by", () => {
  it("orders by text or number, items without the value first, stably", () => {
    const items: JsonObject[] = [{ n: "b", v: 10 }, { n: "a" }, { n: "c", v: 9 }, { n: "d", v: "100" }];
    expect(sortByExpression(items, (i: JsonValue) => i, ".n").map((i) => i.n)).toEqual(["a", "b", "c", "d"]);
    expect(sortByExpression(items, (i: JsonValue) => i, "{.v}").map((i) => i.n)).toEqual(["a", "c", "b", "d"]);
  });
});
