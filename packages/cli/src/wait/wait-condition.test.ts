import { create } from "@bufbuild/protobuf";
import { Phase, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { parseWaitFor } from "./wait-condition.js";

const running = create(VClusterSchema, {
  name: "dev",
  status: {
    phase: Phase.RUNNING,
    readyReplicas: 3,
    conditions: [
      { type: "Ready", status: "True" },
      { type: "Suspended", status: "False" },
    ],
  },
});

describe("wait --for", () => {
  it("understands kubectl's forms and the API's phases in either spelling", () => {
    expect(parseWaitFor("condition=Ready").met(running)).toBe(true);
    expect(parseWaitFor("condition=ready=true").met(running)).toBe(true);
    expect(parseWaitFor("condition=Suspended").met(running)).toBe(false);
    expect(parseWaitFor("condition=Suspended=False").met(running)).toBe(true);
    expect(parseWaitFor("phase=Running").met(running)).toBe(true);
    expect(parseWaitFor("phase=PHASE_SUSPENDED").met(running)).toBe(false);
    expect(parseWaitFor("jsonpath={.status.readyReplicas}=3").met(running)).toBe(true);
    expect(parseWaitFor("jsonpath={.status.phase}=Running").met(running)).toBe(true);
    expect(parseWaitFor("jsonpath={.status.phase}=PHASE_RUNNING").met(running)).toBe(true);
    expect(parseWaitFor("jsonpath={.status.reason}").met(running)).toBe(false);
    expect(parseWaitFor("delete").met(undefined)).toBe(true);
    expect(parseWaitFor("delete").met(running)).toBe(false);
  });

  it("rejects what it does not know, listing the phases", () => {
    expect(() => parseWaitFor("phase=Sleeping")).toThrow(/one of Creating, Running, Suspended/);
    expect(() => parseWaitFor("ready")).toThrow(/expected delete, condition=TYPE/);
  });
});
