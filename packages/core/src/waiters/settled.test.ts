import { create } from "@bufbuild/protobuf";
import { Annotations, Phase, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { generationOf, isSettled } from "./settled.js";

const vcluster = (phase: Phase, generation: string | undefined, observedGeneration: bigint) =>
  create(VClusterSchema, {
    annotations: generation === undefined ? {} : { [Annotations.generation]: generation },
    status: { phase, observedGeneration },
  });

describe("isSettled", () => {
  it("tells a suspend in progress (RUNNING, generation ahead) from a running vcluster", () => {
    expect(isSettled(vcluster(Phase.RUNNING, "3", 2n))).toBe(false);
    expect(isSettled(vcluster(Phase.RUNNING, "3", 3n))).toBe(true);
    expect(isSettled(vcluster(Phase.SUSPENDED, "3", 3n))).toBe(true);
    expect(isSettled(vcluster(Phase.ERROR, "3", 3n))).toBe(true);
  });

  it("never counts a transitional phase, whatever the generations say", () => {
    for (const phase of [
      Phase.PENDING,
      Phase.CREATING,
      Phase.UPDATING,
      Phase.SCALING,
      Phase.SNAPSHOTTING,
      Phase.RESTORING,
      Phase.RESUMING,
      Phase.DELETING,
      Phase.UNSPECIFIED,
    ]) {
      expect(isSettled(vcluster(phase, "1", 1n)), Phase[phase]).toBe(false);
    }
  });

  it("reads the generation annotation, 0 when absent or malformed", () => {
    expect(generationOf(vcluster(Phase.RUNNING, "12345678901234567890", 0n))).toBe(12345678901234567890n);
    expect(generationOf(vcluster(Phase.RUNNING, undefined, 0n))).toBe(0n);
    expect(generationOf(vcluster(Phase.RUNNING, "x1", 0n))).toBe(0n);
    expect(isSettled(vcluster(Phase.RUNNING, undefined, 0n))).toBe(true);
  });
});
