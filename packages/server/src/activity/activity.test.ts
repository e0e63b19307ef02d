import { createClient } from "@connectrpc/connect";
import { Phase, VClusterService } from "@open-vcluster/api";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiServer } from "../api-server.js";
import { createInProcessTransport } from "../in-process.js";
import { ActivityLog } from "./activity-log.js";

let server: ApiServer | undefined;
afterEach(() => server?.close());

function start() {
  const inProcess = createInProcessTransport({ timeScale: 0 });
  server = inProcess.server;
  return createClient(VClusterService, inProcess.transport);
}

describe("ListVClusterEvents", () => {
  it("records each operation with who, outcome and duration, and the phase and condition changes", async () => {
    const vclusters = start();
    await vclusters.createVCluster({ name: "timeline", namespace: "team-a" });
    await server?.idle();
    await vclusters.suspendVCluster({ name: "timeline", namespace: "team-a" });
    await server?.idle();
    await expect(vclusters.suspendVCluster({ name: "timeline", namespace: "team-a" })).rejects.toThrow(
      /failed_precondition/,
    );
    await vclusters.resumeVCluster({ name: "timeline", namespace: "team-a" });
    await server?.idle();

    const { events, lastSequence } = await vclusters.listVClusterEvents({ name: "timeline", namespace: "team-a" });
    const reasons = events.map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        "CreateRequested",
        "CreateSucceeded",
        "SuspendRequested",
        "SuspendSucceeded",
        "SuspendRefused",
        "ResumeRequested",
        "ResumeSucceeded",
        "PhaseChanged",
        "ConditionChanged",
      ]),
    );
    const suspended = events.find((e) => e.reason === "SuspendSucceeded");
    expect(suspended).toMatchObject({ actor: "anonymous", operation: "suspend", outcome: "Succeeded", type: "Normal" });
    expect(suspended?.operationId).not.toBe("");
    expect(suspended?.duration).toBeDefined();
    const refused = events.find((e) => e.reason === "SuspendRefused");
    expect(refused).toMatchObject({ type: "Warning", outcome: "Failed" });
    expect(events.some((e) => e.fromPhase === Phase.RUNNING && e.toPhase === Phase.SUSPENDED)).toBe(true);
    expect(events.some((e) => e.conditionType === "Suspended" && e.conditionStatus === "True")).toBe(true);
    // Sequence numbers grow; a follow-up listing returns only what is new.
    const sequences = events.map((e) => e.sequence);
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    expect(lastSequence).toBe(sequences.at(-1));
    const none = await vclusters.listVClusterEvents({
      name: "timeline",
      namespace: "team-a",
      afterSequence: lastSequence,
    });
    expect(none.events).toEqual([]);
  });

  it("answers NOT_FOUND for an unknown vcluster and INVALID_ARGUMENT for bad input, naming every field", async () => {
    const vclusters = start();
    await expect(vclusters.listVClusterEvents({ name: "nope" })).rejects.toThrow(/not found/);
    await expect(vclusters.listVClusterEvents({ name: "Bad_Name", namespace: "Bad_NS", limit: -1 })).rejects.toThrow(
      /name.*; and 2 more|invalid/i,
    );
  });
});

describe("ActivityLog", () => {
  it("keeps a bounded history per vcluster and forgets the least recently active vclusters", () => {
    const log = new ActivityLog(3, 2);
    for (let i = 0; i < 5; i++) log.record("a", { reason: `A${i}` });
    expect(log.list("a", 0n, 100).map((e) => e.reason)).toEqual(["A2", "A3", "A4"]);
    log.record("b", { reason: "B" });
    log.record("c", { reason: "C" });
    expect(log.list("a", 0n, 100)).toEqual([]);
    expect(log.list("c", 0n, 1).map((e) => e.reason)).toEqual(["C"]);
  });
});
