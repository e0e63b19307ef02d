import { describe, expect, it } from "vitest";
import { LabelSelectorError, parseLabelSelector } from "./index.js";

describe("parseLabelSelector", () => {
  it.each([
    ["", ""],
    ["   ", ""],
    ["env=prod", "env=prod"],
    ["env==prod", "env=prod"],
    ["env = prod", "env=prod"],
    ["env!=prod", "env!=prod"],
    ["env=", "env="],
    ["tier in (web,api)", "tier in (api,web)"],
    ["tier in(web, api, web)", "tier in (api,web)"],
    ["tier notin (web)", "tier notin (web)"],
    ["tier in (a,)", "tier in (,a)"],
    ["legacy", "legacy"],
    ["!legacy", "!legacy"],
    [" ! legacy ", "!legacy"],
    ["env=prod,tier in (web,api),!legacy", "env=prod,!legacy,tier in (api,web)"],
    ["b=1,a=2,example.com/c", "a=2,b=1,example.com/c"],
    ["in=x", "in=x"],
    ["k=in", "k=in"],
  ])("parses %j into %j", (text, canonical) => {
    const selector = parseLabelSelector(text);
    expect(selector.toString()).toBe(canonical);
    expect(parseLabelSelector(selector.toString()).toString()).toBe(canonical);
  });

  it("exposes structured requirements sorted by key", () => {
    expect(parseLabelSelector("z!=1, tier notin (b,a), !gone, env==prod, has").requirements).toEqual([
      { key: "env", operator: "=", values: ["prod"] },
      { key: "gone", operator: "!exists", values: [] },
      { key: "has", operator: "exists", values: [] },
      { key: "tier", operator: "notin", values: ["a", "b"] },
      { key: "z", operator: "!=", values: ["1"] },
    ]);
  });

  it.each([
    ["env=prod,", 9, /expected a label key, found end of selector/],
    [",env", 0, /expected a label key, found ","/],
    ["env=prod tier=web", 9, /expected "," or end of selector, found "tier"/],
    ["env prod", 4, /expected an operator .* after key "env", found "prod"/],
    ["env in ()", 8, /set of values for "in" must not be empty/],
    ["env notin ( )", 12, /set of values for "notin" must not be empty/],
    ["env in a,b", 7, /expected "\(" after "in", found "a"/],
    ["env in (a b)", 10, /expected "," or "\)"/],
    ["env in (a", 9, /expected "," or "\)" .* found end of selector/],
    ["env in (a,=)", 10, /expected a value or "\)"/],
    ["env=(a)", 4, /expected a value after "=", found "\("/],
    ["env>1", 3, /operator ">" is not supported/],
    ["env<1", 3, /operator "<" is not supported/],
    ["-env=prod", 0, /label key "-env"/],
    ["env=-prod", 4, /label value "-prod"/],
    ["tier in (web,-api)", 13, /label value "-api"/],
    ["!", 1, /expected a label key, found end of selector/],
    ["a/b/c", 0, /at most one '\/'/],
    ["=x", 0, /expected a label key, found "="/],
  ])("rejects %j at offset %i", (text, position, problem) => {
    let caught: unknown;
    try {
      parseLabelSelector(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabelSelectorError);
    const error = caught as LabelSelectorError;
    expect(error.position).toBe(position);
    expect(error.selector).toBe(text);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(`at offset ${position}`);
  });
});

describe("LabelSelector.matches", () => {
  const labels = { env: "prod", tier: "web", empty: "" };

  it.each([
    ["", true],
    ["env=prod", true],
    ["env==prod", true],
    ["env=dev", false],
    ["missing=x", false],
    ["env!=dev", true],
    ["env!=prod", false],
    ["missing!=x", true],
    ["tier in (web,api)", true],
    ["tier in (api)", false],
    ["missing in (web)", false],
    ["tier notin (api)", true],
    ["tier notin (web,api)", false],
    ["missing notin (web)", true],
    ["env", true],
    ["missing", false],
    ["!missing", true],
    ["!env", false],
    ["empty=", true],
    ["empty", true],
    ["env=", false],
    ["empty in (,x)", true],
    ["env=prod,tier in (web),!legacy", true],
    ["env=prod,tier in (api)", false],
  ])("%j → %s", (text, expected) => {
    expect(parseLabelSelector(text).matches(labels)).toBe(expected);
  });

  it("ignores keys inherited from the prototype", () => {
    expect(parseLabelSelector("toString").matches({})).toBe(false);
    expect(parseLabelSelector("constructor!=x").matches({})).toBe(true);
  });
});
