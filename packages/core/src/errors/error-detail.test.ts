import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { errorDetail } from "./error-detail.js";

function invalid(init: Parameters<typeof create<typeof ErrorDetailSchema>>[1]): ConnectError {
  const detail = create(ErrorDetailSchema, init);
  return new ConnectError("spec.replicas: must be at least 1; and 2 more", Code.InvalidArgument, undefined, [
    { desc: ErrorDetailSchema, value: detail },
  ]);
}

describe("errorDetail", () => {
  it("exposes every field violation as structured data, with the count left out", () => {
    const error = invalid({
      reason: "INVALID_FIELD",
      field: "spec.replicas",
      violations: [
        { field: "spec.replicas", description: "must be at least 1" },
        { field: "labels[team]", description: 'label value "-x" must start with a letter or digit' },
        { field: "spec.resources.cpu_request", description: "must be a Kubernetes quantity" },
      ],
      omittedViolations: 7,
    });
    const detail = errorDetail(error);
    expect(detail?.violations).toEqual([
      { field: "spec.replicas", description: "must be at least 1" },
      { field: "labels[team]", description: 'label value "-x" must start with a letter or digit' },
      { field: "spec.resources.cpu_request", description: "must be a Kubernetes quantity" },
    ]);
    expect(detail?.omittedViolations).toBe(7);
    expect(detail?.field).toBe("spec.replicas");
  });

  it("decodes the violations from the wire form a client receives (binary detail)", () => {
    const value = toBinary(
      ErrorDetailSchema,
      create(ErrorDetailSchema, {
        reason: "INVALID_FIELD",
        violations: [{ field: "name", description: "must be a DNS-1123 label" }],
      }),
    );
    const error = new ConnectError("name: must be a DNS-1123 label", Code.InvalidArgument);
    error.details.push({ type: ErrorDetailSchema.typeName, value });
    expect(errorDetail(error)?.violations).toEqual([{ field: "name", description: "must be a DNS-1123 label" }]);
    expect(errorDetail(error)?.omittedViolations).toBe(0);
  });

  it("reads violations only from the proto field, never from metadata", () => {
    const error = invalid({
      reason: "INVALID_FIELD",
      field: "name",
      metadata: { violations: JSON.stringify([{ field: "name", description: "from metadata" }]) },
    });
    expect(errorDetail(error)?.violations).toEqual([]);
    expect(errorDetail(error)?.metadata.violations).toContain("from metadata");
  });

  it("is undefined for errors without a detail and for non-Connect errors", () => {
    expect(errorDetail(new ConnectError("boom", Code.Internal))).toBeUndefined();
    expect(errorDetail(new Error("boom"))).toBeUndefined();
  });
});
