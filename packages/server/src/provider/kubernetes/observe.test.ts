import { describe, expect, it } from "vitest";
import { classify, endpointOf, type HostState } from "./observe.js";

const release = {
  name: "v",
  namespace: "ns",
  revision: 2,
  status: "deployed",
  chartName: "vcluster",
  chartVersion: "0.30.1",
  appVersion: "0.30.1",
};

function host(extra: Partial<HostState> = {}): HostState {
  return {
    release,
    statefulSet: {
      spec: { replicas: 2, selector: {}, template: {}, serviceName: "v" },
      status: { replicas: 2, readyReplicas: 2 },
    },
    controlPlanePods: [],
    workloadPods: [],
    hasKubeconfigSecret: true,
    namespaceExists: true,
    ...extra,
  } as HostState;
}

describe("classify", () => {
  it("is running only when every replica is ready and the kubeconfig secret exists", () => {
    expect(classify("ns", "v", host())).toMatchObject({
      state: "running",
      readyReplicas: 2,
      totalReplicas: 2,
      helmRelease: { chartVersion: "0.30.1", revision: 2, status: "deployed" },
      usageSource: "requests",
    });
    const partial = host({
      statefulSet: { spec: { replicas: 2 }, status: { readyReplicas: 1 } } as unknown as HostState["statefulSet"],
    });
    expect(classify("ns", "v", partial)).toMatchObject({
      state: "starting",
      message: "1/2 control-plane replicas ready (release deployed)",
    });
    expect(classify("ns", "v", host({ hasKubeconfigSecret: false }))).toMatchObject({
      state: "starting",
      reason: "KubeconfigPending",
    });
  });

  it("names what is missing or broken", () => {
    expect(classify("ns", "v", host({ release: undefined })).reason).toBe("ReleaseMissing");
    expect(classify("ns", "v", host({ statefulSet: undefined })).reason).toBe("StatefulSetMissing");
    expect(classify("ns", "v", host({ namespaceExists: false })).reason).toBe("NamespaceMissing");
    expect(classify("ns", "v", host({ release: { ...release, status: "failed" } })).reason).toBe("ReleaseFailed");
    const crashing = host({
      controlPlanePods: [
        {
          metadata: { name: "v-0" },
          status: {
            containerStatuses: [
              { name: "syncer", state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 5m" } } },
            ],
          },
        },
      ] as HostState["controlPlanePods"],
    });
    expect(classify("ns", "v", crashing)).toMatchObject({
      state: "failed",
      reason: "ControlPlaneCrashing",
      message: "pod v-0: CrashLoopBackOff: container syncer: back-off 5m",
    });
  });

  it("sees a pause by its annotations and zero replicas", () => {
    const paused = host({
      statefulSet: {
        metadata: { annotations: { "loft.sh/paused": "true", "loft.sh/paused-replicas": "3" } },
        spec: { replicas: 0 },
        status: {},
      } as unknown as HostState["statefulSet"],
    });
    expect(classify("ns", "v", paused)).toMatchObject({ state: "suspended", totalReplicas: 3 });
  });

  it("takes usage from the metrics API when the host serves one", () => {
    const measured = host({ metrics: { items: [{ containers: [{ usage: { cpu: "150000000n", memory: "64Mi" } }] }] } });
    expect(classify("ns", "v", measured)).toMatchObject({
      usageSource: "metrics",
      usage: { cpuUsage: "150m", memoryUsage: "64Mi" },
    });
  });

  it("derives the endpoint from the Service", () => {
    expect(endpointOf(undefined, "ns", "v")).toBe("https://v.ns.svc:443");
    expect(
      endpointOf(
        {
          spec: { type: "LoadBalancer", ports: [{ name: "https", port: 443 }] },
          status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } },
        },
        "ns",
        "v",
      ),
    ).toBe("https://203.0.113.7:443");
  });
});
