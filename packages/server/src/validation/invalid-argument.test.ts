import { Code } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { quote } from "./field-violation.js";
import { invalidArgument, MAX_REPORTED_VIOLATIONS, MAX_VIOLATIONS_BYTES } from "./invalid-argument.js";

describe("invalidArgument", () => {
  it("carries every violation as structured data, the first also in field", () => {
    const violations = [
      { field: "spec.replicas", description: "must be between 1 and 9" },
      { field: 'labels["app"]', description: "bad value" },
      { field: "name", description: "is required" },
    ];
    const error = invalidArgument(violations);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      'spec.replicas: must be between 1 and 9; labels["app"]: bad value; name: is required',
    );
    const [detail] = error.findDetails(ErrorDetailSchema);
    expect(detail?.reason).toBe("INVALID_FIELD");
    expect(detail?.field).toBe("spec.replicas");
    expect(detail?.violations.map(({ field, description }) => ({ field, description }))).toEqual(violations);
    expect(detail?.omittedViolations).toBe(0);
    // The structured field is the one source: no JSON copy in metadata.
    expect(detail?.metadata).toEqual({});
  });

  it("has no suffix for a single violation", () => {
    const error = invalidArgument([{ field: "name", description: "is required" }]);
    expect(error.rawMessage).toBe("name: is required");
  });

  it("keeps the message short and says how many it did not list", () => {
    const violations = Array.from({ length: 40 }, (_, i) => ({
      field: `spec.plugins[${i}].image`,
      description: "is required",
    }));
    const error = invalidArgument(violations);
    expect(error.rawMessage.length).toBeLessThan(700);
    expect(error.rawMessage).toMatch(/; and \d+ more \(see the error detail\)$/);
    expect(error.findDetails(ErrorDetailSchema)[0]?.violations).toHaveLength(40);
  });

  it("caps the number of reported violations and counts the rest", () => {
    const violations = Array.from({ length: 5000 }, (_, i) => ({ field: `p[${i}]`, description: "bad" }));
    const [detail] = invalidArgument(violations).findDetails(ErrorDetailSchema);
    expect(detail?.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(detail?.violations[0]?.field).toBe("p[0]");
    expect(detail?.omittedViolations).toBe(5000 - MAX_REPORTED_VIOLATIONS);
  });

  it("bounds the bytes of echoed values, however large the input", () => {
    const huge = "x".repeat(1 << 20);
    const violations = Array.from({ length: 50 }, (_, i) => ({
      field: `ids[${i}]`,
      description: `must be an id returned by the server (got ${quote(huge)})`,
    }));
    const error = invalidArgument(violations);
    const [detail] = error.findDetails(ErrorDetailSchema);
    const bytes = (detail?.violations ?? []).reduce((n, v) => n + v.field.length + v.description.length, 0);
    expect(bytes).toBeLessThanOrEqual(MAX_VIOLATIONS_BYTES);
    expect((detail?.violations.length ?? 0) + (detail?.omittedViolations ?? 0)).toBe(50);
    expect(detail?.violations[0]?.description).toContain("(1048576 characters)");
    expect(error.rawMessage.length).toBeLessThan(1200);
  });

  it("refuses an empty list", () => {
    expect(() => invalidArgument([])).toThrow(RangeError);
  });
});
