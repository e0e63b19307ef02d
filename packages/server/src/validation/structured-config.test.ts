import { describe, expect, it } from "vitest";
import { MAX_CONFIG_BYTES, parseConfigMapping, usesEtcdBackingStore, valueAt } from "./structured-config.js";

describe("parseConfigMapping", () => {
  it.each([
    ["", {}],
    ["  \n", {}],
    ["# only a comment\n", {}],
    ["a: 1\nb:\n  c: true\n", { a: 1, b: { c: true } }],
    ['{"a": 1, "b": {"c": true}}', { a: 1, b: { c: true } }],
    ["~", {}],
  ])("parses %j", (text, mapping) => {
    expect(parseConfigMapping(text)).toEqual({ mapping });
  });

  it.each([
    ["a: [1, 2", /must be valid YAML or JSON: .* at line 1/],
    ['{"a": 1', /must be valid YAML or JSON/],
    ["a: 1\na: 2\n", /must be valid YAML or JSON: .*unique/i],
    ["- a\n- b\n", /must be a YAML or JSON mapping at the top level \(got a list\)/],
    ["42", /got a number/],
    ['"text"', /got a string/],
    ["x".repeat(MAX_CONFIG_BYTES + 1), /must be at most 1048576 bytes/],
  ])("rejects %j", (text, problem) => {
    const result = parseConfigMapping(text);
    expect("problem" in result && result.problem).toMatch(problem);
  });

  it("refuses documents that expand aliases exponentially", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const previous = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    }
    const result = parseConfigMapping(lines.join("\n"));
    expect("problem" in result && result.problem).toMatch(/must be valid YAML or JSON/);
  });
});

describe("usesEtcdBackingStore", () => {
  const mapping = (text: string) => {
    const result = parseConfigMapping(text);
    if (!("mapping" in result)) throw new Error(result.problem);
    return result.mapping;
  };

  it.each([
    ["controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: true\n", true],
    ["controlPlane:\n  backingStore:\n    etcd:\n      deploy:\n        enabled: true\n", true],
    ['{"controlPlane":{"backingStore":{"etcd":{"deploy":{"enabled":true}}}}}', true],
    ["controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: false\n", false],
    ['controlPlane:\n  backingStore:\n    etcd:\n      embedded:\n        enabled: "true"\n', false],
    ["controlPlane:\n  backingStore:\n    database:\n      embedded:\n        enabled: true\n", false],
    ["controlPlane: []\n", false],
    ["", false],
  ])("%j → %s", (text, expected) => {
    expect(usesEtcdBackingStore(mapping(text))).toBe(expected);
  });

  it("does not read inherited properties", () => {
    expect(valueAt({}, ["constructor"])).toBeUndefined();
  });
});
