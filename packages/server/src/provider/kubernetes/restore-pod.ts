import { randomBytes } from "node:crypto";
import type { V1EnvVar, V1Pod, V1Secret, V1StatefulSet } from "@kubernetes/client-node";
import { optionsJson, STORAGE_OPTIONS_ENV, type StorageOptions } from "./snapshot-format.js";

/*
 * vcluster's restore (facts from loft-sh/vcluster, pkg/cli/restore_helm.go and
 * pkg/snapshot/pod): with the vcluster paused, a pod `vcluster-snapshot-<suffix>` (label
 * app=vcluster-snapshot, restart policy Never) runs the vcluster image of the StatefulSet's
 * `syncer` container with the command `/vcluster restore` (plus `--new-vcluster` when the
 * vcluster was just created from the snapshot), the syncer's env and mounts, POD_NAME
 * `<name>-0`, the data volume `data-<name>-0`, and VCLUSTER_STORAGE_OPTIONS (base64 of the
 * options JSON) from the Secret `vcluster-snapshot-options-<suffix>`. Exit code 0 = restored.
 * Before the chart is installed for a restore, the ResourceQuota `vcluster-restore` (pods: 0)
 * keeps the fresh control plane from starting on an empty backing store.
 */

export const RESTORE_POD_LABEL = { app: "vcluster-snapshot" } as const;
export const RESTORE_QUOTA = "vcluster-restore";

/** Lower-case letters and digits, as vcluster's random suffix. */
export function randomSuffix(length = 6): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("");
}

export function restoreObjects(
  sts: V1StatefulSet,
  options: StorageOptions,
  newVCluster: boolean,
  suffix: string,
): { secret: V1Secret; pod: V1Pod } {
  const namespace = sts.metadata?.namespace ?? "";
  const name = sts.metadata?.name ?? "";
  const podSpec = sts.spec?.template.spec;
  const syncer = podSpec?.containers.find((c) => c.name === "syncer");
  if (!podSpec || !syncer)
    throw new Error(`StatefulSet ${namespace}/${name} has no syncer container to run the restore with`);
  const secretName = `vcluster-snapshot-options-${suffix}`;
  const secret: V1Secret = {
    metadata: { name: secretName, namespace, labels: { ...RESTORE_POD_LABEL } },
    // The key's value is the base64 text the restore reads from its environment.
    data: {
      [STORAGE_OPTIONS_ENV]: Buffer.from(Buffer.from(optionsJson(options), "utf8").toString("base64")).toString(
        "base64",
      ),
    },
  };
  const env: V1EnvVar[] = [
    ...(syncer.env ?? []).filter((e) => e.name !== "POD_NAME"),
    { name: STORAGE_OPTIONS_ENV, valueFrom: { secretKeyRef: { name: secretName, key: STORAGE_OPTIONS_ENV } } },
    // Embedded etcd restores as member 0.
    { name: "POD_NAME", value: `${name}-0` },
  ];
  const volumes = [...(podSpec.volumes ?? [])];
  if ((syncer.volumeMounts ?? []).some((m) => m.name === "data") && !volumes.some((v) => v.name === "data"))
    volumes.push({ name: "data", persistentVolumeClaim: { claimName: `data-${name}-0` } });
  const pod: V1Pod = {
    metadata: { name: `vcluster-snapshot-${suffix}`, namespace, labels: { ...RESTORE_POD_LABEL } },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      ...(podSpec.serviceAccountName ? { serviceAccountName: podSpec.serviceAccountName } : {}),
      ...(podSpec.nodeSelector ? { nodeSelector: podSpec.nodeSelector } : {}),
      ...(podSpec.affinity ? { affinity: podSpec.affinity } : {}),
      ...(podSpec.tolerations ? { tolerations: podSpec.tolerations } : {}),
      ...(podSpec.securityContext ? { securityContext: podSpec.securityContext } : {}),
      ...(podSpec.imagePullSecrets ? { imagePullSecrets: podSpec.imagePullSecrets } : {}),
      ...(podSpec.initContainers ? { initContainers: podSpec.initContainers } : {}),
      volumes,
      containers: [
        {
          name: "snapshot",
          image: syncer.image ?? "",
          command: ["/vcluster", "restore", ...(newVCluster ? ["--new-vcluster"] : [])],
          env,
          ...(syncer.envFrom ? { envFrom: syncer.envFrom } : {}),
          ...(syncer.securityContext ? { securityContext: syncer.securityContext } : {}),
          volumeMounts: syncer.volumeMounts ?? [],
        },
      ],
    },
  };
  return { secret, pod };
}

/** How a finished restore pod ended: undefined while it runs, else its exit and message. */
export function restoreOutcome(pod: V1Pod): { ok: boolean; message: string } | undefined {
  const phase = pod.status?.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  const terminated = pod.status?.containerStatuses?.find((c) => c.name === "snapshot")?.state?.terminated;
  const code = terminated?.exitCode ?? (phase === "Succeeded" ? 0 : 1);
  if (phase === "Succeeded" && code === 0) return { ok: true, message: "restored" };
  const why = [terminated?.reason, terminated?.message].filter(Boolean).join(": ");
  return { ok: false, message: `restore pod failed: exit code ${code}${why ? ` (${why})` : ""}` };
}
