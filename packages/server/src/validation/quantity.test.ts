import { describe, expect, it } from "vitest";
import { formatQuantity, parseQuantity, QuantityError } from "./quantity.js";

describe("parseQuantity", () => {
  it.each([
    ["1", 1],
    ["0", 0],
    ["250m", 0.25],
    ["1500m", 1.5],
    ["0.5", 0.5],
    [".5", 0.5],
    ["2.", 2],
    ["100n", 1e-7],
    ["5u", 5e-6],
    ["1k", 1000],
    ["1M", 1e6],
    ["3G", 3e9],
    ["1T", 1e12],
    ["1P", 1e15],
    ["1E", 1e18],
    ["1Ki", 1024],
    ["256Mi", 256 * 2 ** 20],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["2Ti", 2 * 2 ** 40],
    ["1Pi", 2 ** 50],
    ["1Ei", 2 ** 60],
    ["1e3", 1000],
    ["1E3", 1000],
    ["5e-3", 0.005],
    ["1e+2", 100],
    ["+1", 1],
    ["-1", -1],
  ])("%j = %d", (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each([
    "",
    " 1",
    "1 ",
    "abc",
    "1K",
    "1KiB",
    "1mi",
    "1e",
    "1.2.3",
    "Gi",
    "1Gi5",
    "--1",
    "1,5",
    "1e3Ki",
    `${"9".repeat(65)}`,
    "1e999",
  ])("rejects %j", (text) => {
    expect(() => parseQuantity(text)).toThrow(QuantityError);
  });

  it.each(["99999999999999999999Ei", "8Ei", "9223372036854775808", "1e19", "-8Ei", "10E"])(
    "refuses %j: beyond the 2^63 bound of a Kubernetes quantity",
    (text) => {
      expect(() => parseQuantity(text)).toThrow(/too large \(Kubernetes quantities must be below 2\^63/);
    },
  );

  it("accepts the largest quantities Kubernetes does", () => {
    expect(parseQuantity("7Ei")).toBe(7 * 2 ** 60);
    expect(parseQuantity("9223372036854775000")).toBeLessThan(2 ** 63);
  });

  it("names the input and the accepted forms", () => {
    expect(() => parseQuantity("12xy")).toThrow(/invalid quantity "12xy": expected a number with an optional suffix/);
  });
});

describe("formatQuantity", () => {
  it.each([
    [0.25, "cpu", "250m"],
    [2, "cpu", "2"],
    [1.5, "cpu", "1500m"],
    [0.0001, "cpu", "1m"],
    [0, "cpu", "0"],
    [-0.5, "cpu", "-500m"],
    [2 * 2 ** 30, "bytes", "2Gi"],
    [1536 * 2 ** 20, "bytes", "1536Mi"],
    [256 * 2 ** 20, "bytes", "256Mi"],
    [1000, "bytes", "1000"],
    [2048, "bytes", "2Ki"],
    [2 ** 60, "bytes", "1Ei"],
    [0, "bytes", "0"],
  ] as const)("%d %s → %j", (value, kind, text) => {
    expect(formatQuantity(value, kind)).toBe(text);
  });

  it("round-trips through parseQuantity", () => {
    for (const text of ["250m", "2", "1536Mi", "4Gi", "10Gi", "1Ki", "123"]) {
      const kind = text.endsWith("m") || text === "2" ? "cpu" : "bytes";
      expect(formatQuantity(parseQuantity(text), kind)).toBe(text);
    }
  });

  it("refuses non-finite values", () => {
    expect(() => formatQuantity(Number.POSITIVE_INFINITY, "bytes")).toThrow(RangeError);
  });
});
