import { createClient } from "@connectrpc/connect";
import { Phase, VClusterService } from "@open-vcluster/api";
import { afterEach, describe, expect, it } from "vitest";
import type { ApiServer } from "../api-server.js";
import { createInProcessTransport } from "../in-process.js";

let server: ApiServer | undefined;
afterEach(() => server?.close());

function start(options: { usageSampleIntervalMs?: number } = {}) {
  const inProcess = createInProcessTransport({ timeScale: 0, ...options });
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
    await vclusters.updateVCluster({
      name: "timeline",
      namespace: "team-a",
      labels: { team: "a" },
      updateMask: { paths: ["labels"] },
    });

    const { events, lastSequence } = await vclusters.listVClusterEvents({ name: "timeline", namespace: "team-a" });
    const reasons = events.map((e) => e.reason);
    for (const reason of [
      "CreateRequested",
      "CreateSucceeded",
      "SuspendRequested",
      "SuspendSucceeded",
      "SuspendRefused",
      "ResumeRequested",
      "ResumeSucceeded",
      "UpdateRequested",
      "UpdateSucceeded",
      "PhaseChanged",
      "ConditionChanged",
    ]) {
      expect(reasons).toContain(reason);
    }
    // Each request comes before the end of its operation.
    expect(reasons.indexOf("SuspendRequested")).toBeLessThan(reasons.indexOf("SuspendSucceeded"));
    expect(reasons.indexOf("CreateRequested")).toBeLessThan(reasons.indexOf("CreateSucceeded"));
    const suspended = events.find((e) => e.reason === "SuspendSucceeded");
    expect(suspended).toMatchObject({ actor: "anonymous", operation: "suspend", outcome: "Succeeded", type: "Normal" });
    expect(suspended?.operationId).not.toBe("");
    expect(suspended?.operationId).toBe(events.find((e) => e.reason === "SuspendRequested")?.operationId);
    expect(suspended?.duration).toBeDefined();
    const refused = events.find((e) => e.reason === "SuspendRefused");
    expect(refused).toMatchObject({ type: "Warning", outcome: "Failed", actor: "anonymous" });
    expect(events.some((e) => e.fromPhase === Phase.RUNNING && e.toPhase === Phase.SUSPENDED)).toBe(true);
    expect(events.some((e) => e.conditionType === "Suspended" && e.conditionStatus === "True")).toBe(true);
    // Sequence numbers grow by one per event of this vcluster; a follow-up listing returns only what is new.
    const sequences = events.map((e) => Number(e.sequence));
    expect(sequences).toEqual(sequences.map((_, i) => (sequences[0] ?? 0) + i));
    expect(lastSequence).toBe(events.at(-1)?.sequence);
    const none = await vclusters.listVClusterEvents({
      name: "timeline",
      namespace: "team-a",
      afterSequence: lastSequence,
    });
    expect(none.events).toEqual([]);
    expect(none.lastSequence).toBe(lastSequence);
  });

  it("keeps the history in the store, so a server on the same database sees it", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "activity-"));
    try {
      const spec = `sqlite:${join(dir, "db.sqlite")}` as const;
      const first = createInProcessTransport({ timeScale: 0, store: spec });
      server = first.server;
      const vclusters = createClient(VClusterService, first.transport);
      await vclusters.createVCluster({ name: "kept" });
      await first.server.idle();
      const before = await vclusters.listVClusterEvents({ name: "kept" });
      await first.server.close();
      const second = createInProcessTransport({ timeScale: 0, store: spec });
      server = second.server;
      const after = await createClient(VClusterService, second.transport).listVClusterEvents({ name: "kept" });
      expect(after.events.map((e) => e.reason)).toEqual(before.events.map((e) => e.reason));
      expect(after.events.map((e) => e.reason)).toContain("CreateSucceeded");
    } finally {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers NOT_FOUND for an unknown vcluster and INVALID_ARGUMENT naming every bad field", async () => {
    const vclusters = start();
    await expect(vclusters.listVClusterEvents({ name: "nope" })).rejects.toThrow(/not found/);
    await expect(vclusters.listVClusterUsage({ name: "nope" })).rejects.toThrow(/not found/);
    await expect(vclusters.listVClusterEvents({ name: "Bad_Name", namespace: "Bad_NS", limit: -1 })).rejects.toThrow(
      /name: .*; namespace: .*; limit: must not be negative/,
    );
    await expect(vclusters.listVClusterUsage({ name: "ok", afterSequence: -1n })).rejects.toThrow(/after_sequence/);
  });
});

describe("ListVClusterUsage", () => {
  it("samples the provider's usage as it changes, zero while suspended", async () => {
    const vclusters = start({ usageSampleIntervalMs: 1 });
    await vclusters.createVCluster({ name: "used", waitForReady: true });
    await vclusters.suspendVCluster({ name: "used" });
    await server?.idle();
    await vclusters.resumeVCluster({ name: "used" });
    await server?.idle();
    const { samples, lastSequence } = await vclusters.listVClusterUsage({ name: "used" });
    const cpu = samples.map((s) => s.usage?.cpuUsage);
    expect(cpu.length).toBeGreaterThanOrEqual(3);
    expect(cpu).toContain("0");
    expect(cpu.at(-1)).not.toBe("0");
    expect(samples.every((s) => s.time !== undefined)).toBe(true);
    expect(lastSequence).toBe(samples.at(-1)?.sequence);
  });

  it("keeps at most one sample per interval: the newest value in it wins", async () => {
    const vclusters = start({ usageSampleIntervalMs: 3_600_000 });
    await vclusters.createVCluster({ name: "coarse", waitForReady: true });
    await vclusters.suspendVCluster({ name: "coarse" });
    await server?.idle();
    const { samples } = await vclusters.listVClusterUsage({ name: "coarse" });
    // Create and suspend fall in one hour-long interval (unless the clock crossed an hour boundary).
    expect(samples.length).toBeLessThanOrEqual(2);
    expect(samples.at(-1)?.usage?.cpuUsage).toBe("0");
  });
});

describe("the recording store", () => {
  it("records nothing for a change that rolled back", async () => {
    const vclusters = start();
    await vclusters.createVCluster({ name: "atomic", waitForReady: true });
    const before = await vclusters.listVClusterEvents({ name: "atomic" });
    const store = server?.store;
    if (!store) throw new Error("no server");
    await expect(
      store.transaction(async (tx) => {
        const current = await tx.getVCluster("default", "atomic");
        if (!current?.status) throw new Error("missing");
        current.status.phase = Phase.ERROR;
        await tx.putVCluster(current);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    const after = await vclusters.listVClusterEvents({ name: "atomic" });
    expect(after.events).toEqual(before.events);
    expect(before.events.some((e) => e.reason === "PhaseChanged")).toBe(true);
  });

  it("ends an operation another one took over as failed, saying so", async () => {
    const inProcess = createInProcessTransport({ timeScale: 1 });
    server = inProcess.server;
    const vclusters = createClient(VClusterService, inProcess.transport);
    // With real durations the create is still running when the forced delete takes over.
    await vclusters.createVCluster({ name: "taken-over" });
    const store = server.store;
    const vcluster = await store.getVCluster("default", "taken-over");
    if (!vcluster) throw new Error("missing");
    await vclusters.deleteVCluster({ name: "taken-over", force: true });
    const { events } = await vclusters.listVClusterEvents({ name: "taken-over" });
    const reasons = events.map((e) => e.reason);
    expect(reasons.indexOf("CreateFailed")).toBeGreaterThan(reasons.indexOf("CreateRequested"));
    expect(reasons.indexOf("DeleteRequested")).toBeGreaterThan(reasons.indexOf("CreateFailed"));
    const failed = events.find((e) => e.reason === "CreateFailed");
    expect(failed).toMatchObject({ type: "Warning", outcome: "Failed", actor: "anonymous", operation: "create" });
    expect(failed?.message).toContain("another operation took over");
    await server.idle();
    // The delete removed the vcluster and its history with it.
    expect(await store.getVCluster("default", "taken-over")).toBeUndefined();
    expect(await store.listHistory("event", vcluster.id, 0, 100)).toEqual([]);
    expect(await store.listHistory("usage", vcluster.id, 0, 100)).toEqual([]);
  });

  it("finds an operation's request behind many later events", async () => {
    const inProcess = createInProcessTransport({ timeScale: 1 });
    server = inProcess.server;
    const vclusters = createClient(VClusterService, inProcess.transport);
    await vclusters.createVCluster({ name: "busy" });
    // Refused requests while the create runs put more events after its request than are read first.
    for (let i = 0; i < 12; i++) {
      await expect(vclusters.resumeVCluster({ name: "busy" })).rejects.toThrow();
    }
    await vclusters.deleteVCluster({ name: "busy", force: true });
    const store = server.store;
    const { events } = await vclusters.listVClusterEvents({ name: "busy" });
    const reasons = events.map((e) => e.reason);
    expect(reasons.filter((reason) => reason === "ResumeRefused")).toHaveLength(12);
    const failed = events.find((e) => e.reason === "CreateFailed");
    const requested = events.find((e) => e.reason === "CreateRequested");
    expect(reasons.indexOf("CreateFailed") - reasons.indexOf("CreateRequested")).toBeGreaterThan(12);
    // What the request said is carried into the end: who asked, and how long it took from then.
    expect(failed).toMatchObject({ actor: "anonymous", operationId: requested?.operationId });
    expect(failed?.duration).toBeDefined();
    await server.idle();
    expect(await store.getVCluster("default", "busy")).toBeUndefined();
  });
});
