import { create } from "@bufbuild/protobuf";
import { VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { mergeValues, renderValues } from "./values.js";

describe("renderValues", () => {
  it("maps every spec section to the vcluster chart's values keys", () => {
    const values = renderValues(
      create(VClusterSchema, {
        name: "demo",
        spec: {
          kubernetesVersion: "1.33.4",
          replicas: 3,
          resources: { cpuRequest: "200m", memoryLimit: "4Gi", ephemeralStorageRequest: "1Gi" },
          network: { podCidr: "10.244.0.0/16", enableNetworkPolicies: true, dns: { options: ["ndots:2"] } },
          storage: { enablePersistence: true, persistenceSize: "5Gi", persistenceStorageClass: "fast" },
          sync: { syncNodes: true, syncIngresses: true, customResources: ["certificates.cert-manager.io"] },
          plugins: [
            { name: "hooks", version: "v1", config: "a: 1\n", enabled: true },
            { name: "off", enabled: false },
          ],
          ingress: { enabled: true, hostname: "demo.example.com", ingressClass: "nginx", tls: { enabled: true } },
          serviceAccount: { name: "cp", annotations: { "iam/role": "x" } },
        },
      }),
    );
    expect(values).toEqual({
      controlPlane: {
        distro: { k8s: { enabled: true, version: "v1.33.4" } },
        statefulSet: {
          resources: { requests: { cpu: "200m", "ephemeral-storage": "1Gi" }, limits: { memory: "4Gi" } },
          highAvailability: { replicas: 3 },
          dnsConfig: { options: [{ name: "ndots", value: "2" }] },
          persistence: { volumeClaim: { enabled: true, size: "5Gi", storageClass: "fast" } },
        },
        ingress: {
          enabled: true,
          host: "demo.example.com",
          spec: { ingressClassName: "nginx", tls: [{ hosts: ["demo.example.com"], secretName: "demo-tls" }] },
        },
        advanced: { serviceAccount: { enabled: true, name: "cp", annotations: { "iam/role": "x" } } },
      },
      networking: { podCIDR: "10.244.0.0/16" },
      policies: { networkPolicy: { enabled: true } },
      sync: {
        fromHost: { nodes: { enabled: true } },
        toHost: {
          ingresses: { enabled: true },
          customResources: { "certificates.cert-manager.io": { enabled: true } },
        },
      },
      plugins: { hooks: { version: "v1", config: { a: 1 } } },
    });
  });

  it("merges the user's helm_values on top, maps key by key and lists replaced", () => {
    const values = renderValues(
      create(VClusterSchema, {
        name: "demo",
        spec: {
          replicas: 1,
          resources: { cpuRequest: "200m" },
          helmValues:
            "controlPlane:\n  statefulSet:\n    resources:\n      requests:\n        memory: 1Gi\n    highAvailability:\n      replicas: 2\n",
        },
      }),
    );
    expect(values.controlPlane).toMatchObject({
      statefulSet: { resources: { requests: { cpu: "200m", memory: "1Gi" } }, highAvailability: { replicas: 2 } },
    });
    expect(mergeValues({ a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } })).toEqual({ a: [3], b: { c: 1, d: 2 } });
  });
});
