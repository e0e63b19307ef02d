import { describe, expect, it } from "vitest";
import { MAX_ECHOED_CHARS, quote } from "./field-violation.js";

describe("quote", () => {
  it("repeats a short value as JSON", () => {
    expect(quote('a"b')).toBe('"a\\"b"');
  });

  it("cuts a long value to its first characters and says how long it was", () => {
    expect(quote("x".repeat(1 << 20))).toBe(`"${"x".repeat(MAX_ECHOED_CHARS)}"… (1048576 characters)`);
  });

  it("never cuts a character in two", () => {
    const quoted = quote("😀".repeat(100));
    expect(quoted.startsWith(`"${"😀".repeat(MAX_ECHOED_CHARS)}"…`)).toBe(true);
  });
});
