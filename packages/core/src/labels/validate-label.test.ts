import { describe, expect, it } from "vitest";
import { MAX_LABELS, validateLabelKey, validateLabels, validateLabelValue } from "./index.js";

describe("validateLabelKey", () => {
  it.each([
    "app",
    "a",
    "App.Name_1-x",
    "example.com/app",
    "kubernetes.io/metadata.name",
    "a.b-c.d/x",
    "x".repeat(63),
    `${"a".repeat(63)}.${"b".repeat(63)}/name`,
  ])("accepts %j", (key) => {
    expect(validateLabelKey(key)).toBeUndefined();
  });

  it.each([
    ["", /must not be empty/],
    ["-app", /start and end with an alphanumeric/],
    ["app-", /start and end with an alphanumeric/],
    ["has space", /alphanumeric characters/],
    ["x".repeat(64), /at most 63 characters \(got 64\)/],
    ["a/b/c", /at most one '\/'/],
    ["/name", /prefix before '\/' must not be empty/],
    ["example.com/", /name must not be empty/],
    ["Example.com/app", /DNS-1123 subdomain/],
    ["exa_mple.com/app", /DNS-1123 subdomain/],
    ["-example.com/app", /DNS-1123 subdomain/],
    [`${"a".repeat(64)}.com/app`, /DNS-1123 subdomain/],
    [`${"a.".repeat(127)}a/app`, /prefix must be at most 253 characters/],
  ])("rejects %j", (key, problem) => {
    expect(validateLabelKey(key)).toMatch(problem);
  });
});

describe("validateLabelValue", () => {
  it.each(["", "prod", "v1.2.3", "A_b-c.D", "9", "x".repeat(63)])("accepts %j", (value) => {
    expect(validateLabelValue(value)).toBeUndefined();
  });

  it.each([
    ["-prod", /start and end with an alphanumeric/],
    ["prod.", /start and end with an alphanumeric/],
    ["a b", /alphanumeric characters/],
    ["a/b", /alphanumeric characters/],
    ["é", /alphanumeric characters/],
    ["x".repeat(64), /at most 63 characters \(got 64\)/],
  ])("rejects %j", (value, problem) => {
    expect(validateLabelValue(value)).toMatch(problem);
  });
});

describe("validateLabels", () => {
  it("accepts a valid map", () => {
    expect(validateLabels({ app: "web", "example.com/tier": "", env: "prod" }, "labels")).toEqual([]);
  });

  it("reports each bad entry at its own path, quoting the key", () => {
    const violations = validateLabels({ good: "ok", "bad key": "x", tier: "-web", 'q"uote': "v" }, "spec.labels");
    expect(violations.map((v) => v.field)).toEqual([
      'spec.labels["bad key"]',
      'spec.labels["tier"]',
      'spec.labels["q\\"uote"]',
    ]);
    expect(violations[0]?.description).toMatch(/label key "bad key"/);
    expect(violations[1]?.description).toMatch(/label value "-web"/);
  });

  it("limits the number of labels", () => {
    const labels = Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, "v"]));
    expect(validateLabels(labels, "labels")).toEqual([
      { field: "labels", description: "must have at most 64 labels (got 65)" },
    ]);
    const atLimit = Object.fromEntries(Object.entries(labels).slice(1));
    expect(validateLabels(atLimit, "labels")).toEqual([]);
  });

  it("limits the total size of keys and values", () => {
    // Each entry is a 317-byte key (253-byte prefix, "/", 63-byte name) plus a 40-byte value.
    const prefix = `${"p".repeat(63)}.${"q".repeat(63)}.${"r".repeat(63)}.${"s".repeat(61)}`;
    const labels = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [
        `${prefix}/${"n".repeat(60)}${String(i).padStart(3, "0")}`,
        "v".repeat(40),
      ]),
    );
    const violations = validateLabels(labels, "labels");
    expect(violations).toHaveLength(1);
    expect(validateLabels(Object.fromEntries(Object.entries(labels).slice(0, 45)), "labels")).toEqual([]);
    expect(violations[0]?.field).toBe("labels");
    expect(violations[0]?.description).toMatch(/keys and values must total at most 16384 bytes \(got 21420\)/);
  });
});
