import { PatchStrategy, setHeaderOptions, type V1ConfigMap } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { Clock } from "../../clock.js";
import { ProviderError, type ProviderOperation, type ProviderResult } from "../types.js";
import type { Helm } from "./helm.js";
import { isConflict, isNotFound, type KubeClients } from "./kube.js";
import { RESTORE_POD_LABEL, RESTORE_QUOTA, randomSuffix, restoreObjects, restoreOutcome } from "./restore-pod.js";
import {
  isDone,
  kubeTime,
  optionsForSnapshot,
  optionsSecret,
  parseStorageUrl,
  RequestPhase,
  readRequest,
  requestConfigMap,
  requestUrl,
  SNAPSHOT_ID_LABEL,
  SNAPSHOT_REQUEST_LABEL,
  type SnapshotRequest,
  type StorageOptions,
  VCLUSTER_NAME_LABEL,
  withRelease,
} from "./snapshot-format.js";

/** What a snapshot taken through a vcluster snapshot request records in its content. */
export interface RecordedVClusterSnapshot {
  /** Where vcluster stored the snapshot (the request's credential-free URL). */
  url: string;
  request: { namespace: string; name: string; phase: string; error: string; creationTimestamp: string };
  release: {
    name: string;
    namespace: string;
    chartName: string;
    chartVersion: string;
    appVersion: string;
    revision: number;
    /** The user-supplied values of that revision. */
    values: Record<string, unknown>;
    /** The rendered manifest of that revision. */
    manifest: string;
  };
}

/** The backing-store key under which snapshot content holds a RecordedVClusterSnapshot. */
export const RECORD_KEY = "vclusterSnapshot";

export function recordedSnapshot(backingStore: unknown): RecordedVClusterSnapshot | undefined {
  const record = (backingStore as Record<string, unknown> | undefined)?.[RECORD_KEY] as
    | RecordedVClusterSnapshot
    | undefined;
  return typeof record?.url === "string" && record.release ? record : undefined;
}

/** What the runner needs from the provider: the host, and the provider's own steps. */
export interface SnapshotHost {
  readonly kube: KubeClients;
  readonly helm: Helm;
  readonly clock: Clock;
  retried<T>(what: string, action: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  until(
    op: Pick<ProviderOperation, "signal" | "kind">,
    what: string,
    check: () => Promise<boolean>,
    timeoutMs?: number,
  ): Promise<void>;
  ensureNamespace(namespace: string, signal: AbortSignal): Promise<void>;
  installValues(mode: "install" | "upgrade", op: ProviderOperation, values: Record<string, unknown>): Promise<unknown>;
  pause(op: ProviderOperation): Promise<unknown>;
  unpause(op: ProviderOperation): Promise<ProviderResult>;
}

/**
 * Snapshot, restore and snapshot deletion through vcluster's own mechanisms: the asynchronous
 * snapshot requests its control plane serves, and its restore pod. Every object it creates
 * carries the API snapshot's id, so after a restart it finds and observes its earlier request
 * or pod instead of making a second one.
 */
export class SnapshotRunner {
  constructor(
    private readonly host: SnapshotHost,
    private readonly storage: StorageOptions | undefined,
    private readonly timeoutMs: number,
  ) {}

  private get kube(): KubeClients {
    return this.host.kube;
  }

  private requireStorage(kind: ProviderOperation["kind"]): StorageOptions {
    if (!this.storage) throw new ProviderError("no snapshot storage is configured (--snapshot-url)", kind);
    return this.storage;
  }

  async snapshot(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const snapshotId = op.snapshotId;
    if (!snapshotId) throw new ProviderError("snapshot without a snapshot id", op.kind);
    const at = { namespace, name, snapshotId };
    const release = await this.host.retried(
      "reading the Helm release",
      () => this.host.helm.status(name, namespace, op.signal),
      op.signal,
    );
    if (!release) throw new ProviderError(`Helm release ${namespace}/${name} does not exist`, op.kind);
    const values = await this.host.retried(
      "reading the Helm values",
      () => this.host.helm.values(name, namespace, op.signal),
      op.signal,
    );
    const manifest = await this.host.retried(
      "reading the release manifest",
      () => this.host.helm.manifest(name, namespace, op.signal),
      op.signal,
    );
    const options = withRelease(optionsForSnapshot(this.requireStorage(op.kind), at), {
      releaseName: name,
      releaseNamespace: namespace,
      chartName: release.chartName,
      chartVersion: release.chartVersion,
      values: stringify(values),
    });
    const requestName = await this.ensureRequest(op, at, options, RequestPhase.notStarted);
    const done = await this.awaitRequest(op, namespace, requestName);
    if (done.status.phase !== RequestPhase.completed) throw new ProviderError(failureOf(done, namespace), op.kind);
    const record: RecordedVClusterSnapshot = {
      url: done.spec.url ?? requestUrl(options),
      request: {
        namespace,
        name: requestName,
        phase: done.status.phase ?? "",
        error: done.status.error.message ?? "",
        creationTimestamp: done.metadata.creationTimestamp ?? "",
      },
      release: {
        name,
        namespace,
        chartName: release.chartName,
        chartVersion: release.chartVersion,
        appVersion: release.appVersion,
        revision: release.revision,
        values,
        manifest,
      },
    };
    return {
      backingStore: { [RECORD_KEY]: record },
      storageUri: record.url,
      helmRelease: {
        chartVersion: release.chartVersion,
        appVersion: release.appVersion,
        revision: release.revision,
        status: release.status,
      },
    };
  }

  /**
   * The request of this snapshot (and purpose): the one made before a restart when there is
   * one, else a new Secret (options) and ConfigMap (request) of the same generated name.
   */
  private async ensureRequest(
    op: ProviderOperation,
    at: { namespace: string; name: string; snapshotId: string },
    options: StorageOptions,
    phase: string,
  ): Promise<string> {
    const { namespace } = at;
    const purpose = phase === RequestPhase.deleting ? "delete" : "create";
    const selector = `${SNAPSHOT_REQUEST_LABEL},${VCLUSTER_NAME_LABEL}=${at.name},${SNAPSHOT_ID_LABEL}=${at.snapshotId}`;
    // Deletion requests of a snapshot carry its id too; their generated names tell them apart.
    const wanted = (item: { metadata?: { name?: string } }) =>
      (purpose === "delete") === (item.metadata?.name ?? "").startsWith(`${at.name}-snapshot-request-delete-`);
    const configMaps = await this.host.retried(
      "listing snapshot requests",
      () => this.kube.core.listNamespacedConfigMap({ namespace, labelSelector: selector }),
      op.signal,
    );
    // A deletion that vcluster failed earlier is asked again; anything else is observed on.
    const retry = (cm: V1ConfigMap) =>
      purpose === "delete" && isDone(readRequest(cm)) && readRequest(cm).status.phase !== RequestPhase.deleted;
    const existing = configMaps.items.find((cm) => wanted(cm) && !retry(cm));
    if (existing?.metadata?.name) return existing.metadata.name;
    // A Secret without its ConfigMap: the server stopped between the two creates.
    const secrets = await this.host.retried(
      "listing snapshot request secrets",
      () => this.kube.core.listNamespacedSecret({ namespace, labelSelector: selector }),
      op.signal,
    );
    const named = new Set(configMaps.items.map((cm) => cm.metadata?.name));
    let requestName = secrets.items.find((secret) => wanted(secret) && !named.has(secret.metadata?.name))?.metadata
      ?.name;
    if (!requestName) {
      const created = await this.host.retried(
        "creating the snapshot options secret",
        () => this.kube.core.createNamespacedSecret({ namespace, body: optionsSecret(at, options, purpose) }),
        op.signal,
      );
      requestName = created.metadata?.name ?? "";
    }
    const request: SnapshotRequest = {
      metadata: { name: requestName, creationTimestamp: kubeTime(this.host.clock.now()) },
      spec: { url: requestUrl(options) },
      status: { ...(phase ? { phase } : {}), error: {} },
    };
    const name = requestName;
    await this.host.retried(
      "creating the snapshot request",
      async () => {
        try {
          await this.kube.core.createNamespacedConfigMap({ namespace, body: requestConfigMap(at, request) });
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      },
      op.signal,
    );
    return name;
  }

  /** Watches the request's ConfigMap until vcluster is done with it. */
  private async awaitRequest(op: ProviderOperation, namespace: string, name: string): Promise<SnapshotRequest> {
    let last: SnapshotRequest | undefined;
    await this.host.until(
      op,
      `vcluster to finish snapshot request ${namespace}/${name}`,
      async () => {
        let configMap: V1ConfigMap;
        try {
          configMap = await this.kube.core.readNamespacedConfigMap({ name, namespace });
        } catch (error) {
          if (isNotFound(error))
            throw new ProviderError(`snapshot request ${namespace}/${name} was deleted before it finished`, op.kind);
          throw error;
        }
        last = readRequest(configMap);
        return isDone(last);
      },
      this.timeoutMs,
    );
    if (!last) throw new ProviderError(`snapshot request ${namespace}/${name} was never read`, op.kind);
    return last;
  }

  /**
   * Restores `op.snapshot` as vcluster's `create --restore` does (mode create: the namespace,
   * the pod quota, helm install with the recorded values) or `restore` does (mode restore: helm
   * upgrade with the recorded values); then pause, the restore pod, resume.
   */
  async restore(op: ProviderOperation, mode: "create" | "restore"): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const record = this.recordOf(op);
    const options = this.restoreOptions(op, record);
    const values = record.release.values;
    if (mode === "create") {
      await this.host.ensureNamespace(namespace, op.signal);
      await this.host.retried(
        `creating ResourceQuota ${namespace}/${RESTORE_QUOTA}`,
        async () => {
          try {
            await this.kube.core.createNamespacedResourceQuota({
              namespace,
              body: { metadata: { name: RESTORE_QUOTA, namespace }, spec: { hard: { pods: "0" } } },
            });
          } catch (error) {
            if (!isConflict(error)) throw error;
          }
        },
        op.signal,
      );
      const existing = await this.host.retried(
        "reading the Helm release",
        () => this.host.helm.status(name, namespace, op.signal),
        op.signal,
      );
      await this.host.installValues(existing ? "upgrade" : "install", op, values);
    } else {
      await this.host.installValues("upgrade", op, values);
    }
    await this.host.pause(op);
    await this.deleteQuota(op);
    const outcome = await this.runRestorePod(op, options, mode === "create");
    if (!outcome.ok) throw new ProviderError(outcome.message, op.kind);
    return await this.host.unpause(op);
  }

  private recordOf(op: ProviderOperation): RecordedVClusterSnapshot {
    if (!op.snapshot) throw new ProviderError("restore without a snapshot", op.kind);
    let content: { backingStore?: unknown };
    try {
      content = JSON.parse(new TextDecoder().decode(op.snapshot.content)) as { backingStore?: unknown };
    } catch {
      throw new ProviderError(`the content of snapshot ${op.snapshot.id} is not readable`, op.kind);
    }
    const record = recordedSnapshot(content.backingStore);
    if (!record)
      throw new ProviderError(`snapshot ${op.snapshot.id} was not taken through a vcluster snapshot request`, op.kind);
    return record;
  }

  /** Where the snapshot is, with the credentials of the configured storage. */
  private restoreOptions(op: ProviderOperation, record: RecordedVClusterSnapshot): StorageOptions {
    const storage = this.requireStorage(op.kind);
    const location = parseStorageUrl(record.url);
    if (location.type !== storage.type)
      throw new ProviderError(
        `snapshot is stored at ${record.url}, but the configured snapshot storage is ${storage.type}://`,
        op.kind,
      );
    switch (location.type) {
      case "s3":
        return { ...storage, s3: { ...storage.s3, bucket: location.s3.bucket ?? "", key: location.s3.key ?? "" } };
      case "oci":
        return { ...storage, oci: { ...storage.oci, repository: location.oci.repository ?? "" } };
      case "container":
        return { ...storage, container: location.container };
    }
  }

  private async deleteQuota(op: ProviderOperation): Promise<void> {
    const { namespace } = op.vcluster;
    await this.host.retried(
      `deleting ResourceQuota ${namespace}/${RESTORE_QUOTA}`,
      async () => {
        try {
          await this.kube.core.deleteNamespacedResourceQuota({ name: RESTORE_QUOTA, namespace });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
      op.signal,
    );
  }

  /** Runs (or, after a restart, finds again) the restore pod and waits for how it ends. */
  private async runRestorePod(
    op: ProviderOperation,
    options: StorageOptions,
    newVCluster: boolean,
  ): Promise<{ ok: boolean; message: string }> {
    const { namespace, name } = op.vcluster;
    const snapshotId = op.snapshot?.id ?? "";
    const selector = `app=${RESTORE_POD_LABEL.app},${VCLUSTER_NAME_LABEL}=${name},${SNAPSHOT_ID_LABEL}=${snapshotId}`;
    const ours = { [VCLUSTER_NAME_LABEL]: name, [SNAPSHOT_ID_LABEL]: snapshotId };
    const found = await this.host.retried(
      "listing restore pods",
      () => this.kube.core.listNamespacedPod({ namespace, labelSelector: selector }),
      op.signal,
    );
    let podName = found.items[0]?.metadata?.name;
    let secretName: string | undefined;
    if (podName) {
      secretName = podName.replace(/^vcluster-snapshot-/, "vcluster-snapshot-options-");
    } else {
      const sts = await this.host.retried(
        `reading StatefulSet ${namespace}/${name}`,
        () => this.kube.apps.readNamespacedStatefulSet({ name, namespace }),
        op.signal,
      );
      const objects = restoreObjects(sts, options, newVCluster, randomSuffix());
      objects.secret.metadata = { ...objects.secret.metadata, labels: { ...objects.secret.metadata?.labels, ...ours } };
      objects.pod.metadata = { ...objects.pod.metadata, labels: { ...objects.pod.metadata?.labels, ...ours } };
      secretName = objects.secret.metadata.name;
      await this.host.retried(
        "creating the restore options secret",
        () => this.kube.core.createNamespacedSecret({ namespace, body: objects.secret }),
        op.signal,
      );
      await this.host.retried(
        "creating the restore pod",
        () => this.kube.core.createNamespacedPod({ namespace, body: objects.pod }),
        op.signal,
      );
      podName = objects.pod.metadata.name;
    }
    const pod = podName ?? "";
    let outcome: { ok: boolean; message: string } | undefined;
    try {
      await this.host.until(
        op,
        `restore pod ${namespace}/${pod} to finish`,
        async () => {
          try {
            outcome = restoreOutcome(await this.kube.core.readNamespacedPod({ name: pod, namespace }));
          } catch (error) {
            if (!isNotFound(error)) throw error;
            outcome = { ok: false, message: `restore pod ${namespace}/${pod} disappeared before it finished` };
          }
          return outcome !== undefined;
        },
        this.timeoutMs,
      );
    } finally {
      if (!op.signal.aborted) {
        await this.deleteIgnoringMissing(() =>
          this.kube.core.deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 1 }),
        );
        if (secretName) {
          const secret = secretName;
          await this.deleteIgnoringMissing(() => this.kube.core.deleteNamespacedSecret({ name: secret, namespace }));
        }
      }
    }
    return outcome ?? { ok: false, message: `restore pod ${namespace}/${pod} never finished` };
  }

  /**
   * Deletes the stored snapshots through vcluster's deletion requests (phase Deleting), one
   * per snapshot, and waits for vcluster to report each Deleted. Returns what failed.
   */
  async deleteStored(op: ProviderOperation, snapshots: { id: string; storageUri: string }[]): Promise<string[]> {
    const { namespace, name } = op.vcluster;
    const storage = this.requireStorage(op.kind);
    const failures: string[] = [];
    for (const snapshot of snapshots) {
      let location: StorageOptions;
      try {
        location = parseStorageUrl(snapshot.storageUri);
      } catch (error) {
        failures.push(`${snapshot.storageUri}: ${(error as Error).message}`);
        continue;
      }
      if (location.type !== storage.type) {
        failures.push(`${snapshot.storageUri}: not in the configured ${storage.type}:// storage`);
        continue;
      }
      const options: StorageOptions = {
        ...storage,
        s3: { ...storage.s3, ...location.s3 },
        oci: { ...storage.oci, ...location.oci },
        container: location.container,
      };
      const at = { namespace, name, snapshotId: snapshot.id };
      const requestName = await this.ensureRequest(op, at, options, RequestPhase.deleting);
      const done = await this.awaitRequest(op, namespace, requestName);
      if (done.status.phase !== RequestPhase.deleted) failures.push(failureOf(done, namespace));
    }
    return failures;
  }

  /**
   * After the control plane is gone: releases vcluster's finalizer on this vcluster's request
   * ConfigMaps (nobody else will, and a namespace being deleted would wait for it forever) and,
   * when `remove`, deletes the ConfigMaps and their Secrets.
   */
  async releaseRequests(op: ProviderOperation, remove: boolean): Promise<void> {
    const { namespace, name } = op.vcluster;
    const labelSelector = `${SNAPSHOT_REQUEST_LABEL},${VCLUSTER_NAME_LABEL}=${name}`;
    const configMaps = await this.host.retried(
      "listing snapshot requests",
      () => this.kube.core.listNamespacedConfigMap({ namespace, labelSelector }),
      op.signal,
    );
    for (const configMap of configMaps.items) {
      const cm = configMap.metadata?.name ?? "";
      if ((configMap.metadata?.finalizers ?? []).length > 0)
        await this.deleteIgnoringMissing(() =>
          this.kube.core.patchNamespacedConfigMap(
            { name: cm, namespace, body: { metadata: { finalizers: null } } },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          ),
        );
      if (remove)
        await this.deleteIgnoringMissing(() => this.kube.core.deleteNamespacedConfigMap({ name: cm, namespace }));
    }
    if (!remove) return;
    await this.host.retried(
      "deleting snapshot request secrets",
      () => this.kube.core.deleteCollectionNamespacedSecret({ namespace, labelSelector }),
      op.signal,
    );
  }

  private async deleteIgnoringMissing(action: () => Promise<unknown>): Promise<void> {
    await this.host.retried("deleting", async () => {
      try {
        await action();
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }
}

/** Why vcluster did not complete a request, in its own words. */
function failureOf(request: SnapshotRequest, namespace: string): string {
  const reason = request.status.error.message ? `: ${request.status.error.message}` : "";
  return `vcluster snapshot request ${namespace}/${request.metadata.name} ended ${request.status.phase || "unknown"}${reason}`;
}
