import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  file_vcluster_api_v1_vcluster_api,
  Phase,
  VClusterSchema,
  VClusterService,
  WatchVClusterResponseSchema,
} from "./index.js";

describe("wire contract", () => {
  it("numbers every field 1, 2, 3 … in declaration order, as the original contract does", () => {
    for (const message of file_vcluster_api_v1_vcluster_api.messages) {
      const numbers = message.fields.map((field) => field.number);
      expect(numbers, message.typeName).toEqual(numbers.map((_, i) => i + 1));
    }
  });

  it("encodes a VCluster byte for byte like the original contract", () => {
    const vcluster = create(VClusterSchema, { name: "a", labels: { k: "v" }, status: { phase: Phase.RUNNING } });
    // name = field 2 (0x12), status = field 5 (0x2a) with phase = field 1 varint,
    // labels = field 6 (0x32) map entry {1: "k", 2: "v"}.
    expect(Array.from(toBinary(VClusterSchema, vcluster))).toEqual([
      0x12, 0x01, 0x61, 0x2a, 0x02, 0x08, 0x02, 0x32, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76,
    ]);
    expect(fromBinary(VClusterSchema, toBinary(VClusterSchema, vcluster))).toEqual(vcluster);
  });

  it("uses the proto JSON names clients of the original contract expect", () => {
    const json = toJsonString(
      VClusterSchema,
      create(VClusterSchema, { name: "a", status: { phase: Phase.SUSPENDED } }),
    );
    expect(JSON.parse(json)).toEqual({ name: "a", status: { phase: "PHASE_SUSPENDED" } });
  });

  it("encodes heartbeats as UNSPECIFIED events that old clients can parse", () => {
    const heartbeat = fromJsonString(WatchVClusterResponseSchema, '{"vcluster":{"annotations":{"k":"1"}}}');
    expect(heartbeat.type).toBe(0);
  });

  it("marks exactly the read-only RPCs as free of side effects", () => {
    const readOnly = Object.values(VClusterService.method)
      .filter((method) => method.idempotency === 1)
      .map((method) => method.name);
    expect(readOnly.sort()).toEqual([
      "GetVCluster",
      "GetVClusterKubeconfig",
      "ListVClusterEvents",
      "ListVClusterUsage",
      "ListVClusters",
    ]);
    expect(VClusterService.method.watchVCluster.methodKind).toBe("server_streaming");
  });
});
