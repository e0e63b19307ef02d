import type { V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { restoreObjects, restoreOutcome } from "./restore-pod.js";
import { parseStorageUrl } from "./snapshot-format.js";

const sts: V1StatefulSet = {
  metadata: { name: "alpha", namespace: "team-a" },
  spec: {
    selector: {},
    serviceName: "alpha-headless",
    template: {
      spec: {
        serviceAccountName: "vc-alpha",
        nodeSelector: { pool: "a" },
        containers: [
          {
            name: "syncer",
            image: "ghcr.io/loft-sh/vcluster-pro:0.30.0",
            env: [
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "VCLUSTER_NAME", value: "alpha" },
            ],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
      },
    },
  },
};

describe("vcluster's restore pod", () => {
  it("runs the syncer's image with /vcluster restore, its env and mounts, options from a Secret", () => {
    const options = parseStorageUrl("container:///data/s/team-a/alpha-1.tar.gz");
    const { secret, pod } = restoreObjects(sts, options, true, "abc123");
    expect(secret.metadata?.name).toBe("vcluster-snapshot-options-abc123");
    // The value is the base64 options JSON vcluster reads from VCLUSTER_STORAGE_OPTIONS.
    const env = Buffer.from(secret.data?.VCLUSTER_STORAGE_OPTIONS ?? "", "base64").toString("utf8");
    expect(JSON.parse(Buffer.from(env, "base64").toString("utf8")).container).toEqual({
      path: "/data/s/team-a/alpha-1.tar.gz",
    });
    expect(pod.metadata).toMatchObject({ name: "vcluster-snapshot-abc123", labels: { app: "vcluster-snapshot" } });
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.serviceAccountName).toBe("vc-alpha");
    expect(pod.spec?.nodeSelector).toEqual({ pool: "a" });
    const container = pod.spec?.containers[0];
    expect(container?.name).toBe("snapshot");
    expect(container?.image).toBe("ghcr.io/loft-sh/vcluster-pro:0.30.0");
    expect(container?.command).toEqual(["/vcluster", "restore", "--new-vcluster"]);
    expect(container?.env).toEqual([
      { name: "VCLUSTER_NAME", value: "alpha" },
      {
        name: "VCLUSTER_STORAGE_OPTIONS",
        valueFrom: { secretKeyRef: { name: "vcluster-snapshot-options-abc123", key: "VCLUSTER_STORAGE_OPTIONS" } },
      },
      { name: "POD_NAME", value: "alpha-0" },
    ]);
    expect(pod.spec?.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "data-alpha-0" } }]);
    expect(restoreObjects(sts, options, false, "x").pod.spec?.containers[0]?.command).toEqual(["/vcluster", "restore"]);
  });

  it("needs the syncer container", () => {
    const bare = { ...sts, spec: { ...sts.spec, template: { spec: { containers: [{ name: "other" }] } } } };
    expect(() => restoreObjects(bare as V1StatefulSet, parseStorageUrl("container:///d"), true, "x")).toThrow(
      /no syncer container/,
    );
  });

  it("reads how the pod ended from its phase and exit code", () => {
    expect(restoreOutcome({ status: { phase: "Running" } })).toBeUndefined();
    expect(restoreOutcome({ status: { phase: "Succeeded" } })).toEqual({ ok: true, message: "restored" });
    expect(
      restoreOutcome({
        status: {
          phase: "Failed",
          containerStatuses: [
            {
              name: "snapshot",
              image: "",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 2, reason: "Error", message: "snapshot not found" } },
            },
          ],
        },
      }),
    ).toEqual({ ok: false, message: "restore pod failed: exit code 2 (Error: snapshot not found)" });
  });
});
