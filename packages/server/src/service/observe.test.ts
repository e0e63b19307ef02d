import { create } from "@bufbuild/protobuf";
import { Phase, VClusterSchema, VClusterStatusSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import type { Observation } from "../provider/index.js";
import { applyObservation } from "./observe.js";

const now = new Date("2030-01-01T00:00:00Z");

function running() {
  return create(VClusterSchema, {
    name: "v",
    namespace: "ns",
    status: create(VClusterStatusSchema, {
      phase: Phase.RUNNING,
      reason: "Running",
      message: "The vcluster is running",
      readyReplicas: 1,
      totalReplicas: 1,
    }),
  });
}

const seen = (extra: Partial<Observation>): Observation => ({
  namespace: "ns",
  name: "v",
  state: "running",
  reason: "Running",
  message: "The vcluster is running",
  readyReplicas: 1,
  totalReplicas: 1,
  ...extra,
});

describe("applyObservation", () => {
  it("turns a fault on the host into ERROR with its reason, and a later good look clears it", () => {
    const v = running();
    expect(
      applyObservation(
        v,
        seen({ state: "failed", reason: "StatefulSetMissing", message: "gone", readyReplicas: 0 }),
        now,
      ),
    ).toBe(true);
    expect(v.status).toMatchObject({ phase: Phase.ERROR, reason: "StatefulSetMissing", message: "gone" });
    expect(v.status?.conditions.find((c) => c.type === "Ready")?.status).toBe("False");
    expect(applyObservation(v, seen({}), now)).toBe(true);
    expect(v.status).toMatchObject({ phase: Phase.RUNNING, reason: "Running" });
    expect(v.status?.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("writes nothing when nothing changed", () => {
    const v = running();
    applyObservation(v, seen({ usageSource: "requests" }), now);
    expect(applyObservation(v, seen({ usageSource: "requests" }), new Date(now.getTime() + 1000))).toBe(false);
  });

  it("labels where usage came from", () => {
    const v = running();
    applyObservation(
      v,
      seen({
        usageSource: "requests",
        usage: {
          cpuUsage: "250m",
          memoryUsage: "300Mi",
          storageUsage: "",
          podCount: 0,
          namespaceCount: 0,
          serviceCount: 0,
        },
      }),
      now,
    );
    expect(v.status?.conditions.find((c) => c.type === "UsageFromMetrics")).toMatchObject({
      status: "False",
      reason: "PodRequests",
    });
    expect(v.status?.currentUsage?.cpuUsage).toBe("250m");
  });

  it("sees a pause made outside the server", () => {
    const v = running();
    applyObservation(
      v,
      seen({ state: "suspended", reason: "Suspended", message: "scaled to zero", readyReplicas: 0, totalReplicas: 3 }),
      now,
    );
    expect(v.status?.phase).toBe(Phase.SUSPENDED);
    expect(v.annotations["loft.sh/paused"]).toBe("true");
    expect(v.annotations["loft.sh/paused-replicas"]).toBe("3");
  });

  it("keeps an ERROR while the control plane is still coming up", () => {
    const v = running();
    applyObservation(v, seen({ state: "unreachable", reason: "HostUnreachable", message: "ECONNREFUSED" }), now);
    expect(v.status).toMatchObject({ phase: Phase.ERROR, reason: "ProviderUnreachable", message: "ECONNREFUSED" });
    applyObservation(
      v,
      seen({ state: "starting", reason: "ControlPlaneStarting", message: "0/1", readyReplicas: 0 }),
      now,
    );
    expect(v.status?.phase).toBe(Phase.ERROR);
  });
});
