import { create } from "@bufbuild/protobuf";
import { VClusterSpecSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { validateSpec } from "./spec.js";
import { applySpecDefaults } from "./spec-defaults.js";

describe("applySpecDefaults", () => {
  it("fills every default into an absent spec", () => {
    const spec = applySpecDefaults(undefined);
    expect(spec.replicas).toBe(1);
    expect(spec.distro).toBe("k8s");
    expect(spec.kubernetesVersion).toBe("1.34.2");
    expect(spec.isolationMode).toBe("");
    expect(spec.storage).toBeUndefined();
    expect(spec.resources).toMatchObject({
      cpuRequest: "200m",
      cpuLimit: "",
      memoryRequest: "256Mi",
      memoryLimit: "4Gi",
      ephemeralStorageRequest: "1Gi",
      ephemeralStorageLimit: "10Gi",
    });
    expect(validateSpec(spec)).toEqual([]);
  });

  it("keeps given values and does not modify its input", () => {
    const input = create(VClusterSpecSchema, {
      replicas: 3,
      kubernetesVersion: "v1.33.1",
      resources: { cpuRequest: "1", memoryLimit: "8Gi" },
      storage: { enablePersistence: true },
    });
    const spec = applySpecDefaults(input);
    expect(spec.replicas).toBe(3);
    expect(spec.kubernetesVersion).toBe("1.33.1");
    expect(spec.resources?.cpuRequest).toBe("1");
    expect(spec.resources?.memoryLimit).toBe("8Gi");
    expect(spec.resources?.memoryRequest).toBe("256Mi");
    expect(spec.storage?.persistenceSize).toBe("5Gi");
    expect(input.kubernetesVersion).toBe("v1.33.1");
    expect(input.resources?.memoryRequest).toBe("");
    expect(input.storage?.persistenceSize).toBe("");
  });

  it("leaves persistence size alone without persistence", () => {
    expect(
      applySpecDefaults(create(VClusterSpecSchema, { storage: { enablePersistence: false } })).storage?.persistenceSize,
    ).toBe("");
  });

  it("never creates a limit below a request", () => {
    const spec = applySpecDefaults(
      create(VClusterSpecSchema, {
        resources: { memoryRequest: "8Gi", ephemeralStorageLimit: "512Mi" },
      }),
    );
    expect(spec.resources?.memoryLimit).toBe("8Gi");
    expect(spec.resources?.ephemeralStorageRequest).toBe("512Mi");
    expect(spec.resources?.ephemeralStorageLimit).toBe("512Mi");
    expect(validateSpec(spec)).toEqual([]);
  });

  it("does not throw on quantities that validation would reject", () => {
    const spec = applySpecDefaults(create(VClusterSpecSchema, { resources: { memoryRequest: "lots" } }));
    expect(spec.resources?.memoryLimit).toBe("4Gi");
  });
});
