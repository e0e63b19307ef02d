import { create } from "@bufbuild/protobuf";
import { Phase, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { quantityValue, sortVClusters } from "./sorting.js";

const vc = (name: string, cpu: string, phase: Phase, seconds: number) =>
  create(VClusterSchema, {
    name,
    namespace: "default",
    createTime: { seconds: BigInt(seconds), nanos: 0 },
    status: { phase, currentUsage: { cpuUsage: cpu } },
  });

describe("sorting the list", () => {
  const items = [
    vc("b", "1", Phase.RUNNING, 200),
    vc("a", "250m", Phase.SUSPENDED, 100),
    vc("c", "", Phase.ERROR, 300),
  ];

  it("orders by any column, both ways, quantities by value", () => {
    expect(sortVClusters(items, { column: "name", descending: false }).map((v) => v.name)).toEqual(["a", "b", "c"]);
    expect(sortVClusters(items, { column: "cpu", descending: true }).map((v) => v.name)).toEqual(["b", "a", "c"]);
    expect(sortVClusters(items, { column: "phase", descending: false }).map((v) => v.name)).toEqual(["c", "b", "a"]);
    expect(sortVClusters(items, { column: "age", descending: false }).map((v) => v.name)).toEqual(["c", "b", "a"]);
  });

  it("reads Kubernetes quantities", () => {
    expect(quantityValue("250m")).toBe(0.25);
    expect(quantityValue("2Gi")).toBe(2 * 2 ** 30);
    expect(quantityValue("")).toBe(-1);
    expect(quantityValue("lots")).toBe(-1);
  });
});
