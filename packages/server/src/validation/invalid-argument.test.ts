import { Code } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { invalidArgument } from "./invalid-argument.js";

describe("invalidArgument", () => {
  it("names the first violation and carries all of them", () => {
    const violations = [
      { field: "spec.replicas", description: "must be between 1 and 9" },
      { field: 'labels["app"]', description: "bad value" },
      { field: "name", description: "is required" },
    ];
    const error = invalidArgument(violations);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("spec.replicas: must be between 1 and 9; and 2 more");
    const [detail] = error.findDetails(ErrorDetailSchema);
    expect(detail?.reason).toBe("INVALID_FIELD");
    expect(detail?.field).toBe("spec.replicas");
    expect(JSON.parse(detail?.metadata.violations ?? "null")).toEqual(violations);
  });

  it("has no suffix for a single violation", () => {
    const error = invalidArgument([{ field: "name", description: "is required" }]);
    expect(error.rawMessage).toBe("name: is required");
  });

  it("refuses an empty list", () => {
    expect(() => invalidArgument([])).toThrow(RangeError);
  });
});
