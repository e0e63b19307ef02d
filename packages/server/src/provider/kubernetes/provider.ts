import { PatchStrategy, setHeaderOptions, type V1StatefulSet } from "@kubernetes/client-node";
import type { VCluster } from "@open-vcluster/api";
import { type Clock, systemClock } from "../../clock.js";
import {
  type Observation,
  type ObservationTarget,
  type OperationKind,
  type PreflightDetails,
  type Provider,
  ProviderError,
  type ProviderKubeconfig,
  type ProviderOperation,
  ProviderPreconditionError,
  type ProviderResult,
} from "../types.js";
import { type ChartSource, DEFAULT_CHART, Helm, type HelmRelease } from "./helm.js";
import { type ClusterConnection, connect, isNotFound, type KubeClients } from "./kube.js";
import { rewriteKubeconfig } from "./kubeconfig.js";
import {
  ADOPT_LABEL,
  controlPlaneSelector,
  kubeconfigSecret,
  MANAGED_LABEL,
  MANAGED_VALUE,
  MIN_SNAPSHOT_DELETE_APP_VERSION,
  PAUSED,
  PAUSED_DATE,
  PAUSED_REPLICAS,
  workloadSelector,
} from "./names.js";
import { classify, readHostState } from "./observe.js";
import { Reconciler } from "./reconciler.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "./retry.js";
import { parseStorageUrl, type StorageOptions } from "./snapshot-format.js";
import { type SnapshotHost, SnapshotRunner } from "./snapshot-runner.js";
import { atLeast, snapshotSupport } from "./snapshots.js";
import { renderValues, type Values } from "./values.js";

export interface KubernetesProviderOptions {
  /** Kubeconfig path and context; absent kubeconfig = in-cluster service-account config. */
  connection: ClusterConnection;
  /** Chart repository, name and version; default the official vcluster chart, newest version. */
  chart?: Partial<ChartSource>;
  /** The helm binary (default `helm` on PATH). */
  helm?: string;
  /** Environment for helm (default: the server's). */
  helmEnv?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Retries of transient host failures before an operation fails. */
  retry?: RetryPolicy;
  /** How long create/update/scale/resume wait for Ready control-plane pods (default 600 s). */
  readyTimeoutSeconds?: number;
  /** How often every vcluster is observed even without events (default 30 s). */
  resyncIntervalMs?: number;
  /**
   * Where vcluster's own snapshots are stored (oci://, s3://, container:///path, credentials in
   * the URL as vcluster's CLI takes them); absent = no snapshots. Each snapshot gets its own
   * file below a container path or S3 key, or its own tag in an OCI repository.
   */
  snapshotUrl?: string;
  /** How long a snapshot request, deletion request or restore pod may take (default 3600 s). */
  snapshotTimeoutSeconds?: number;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * Runs vclusters on a real host cluster the way the vcluster CLI does: Helm for install,
 * upgrade and uninstall; the Kubernetes API for namespaces, pausing, kubeconfigs and
 * observing. Each vcluster is the Helm release `<name>` in the host namespace of the same
 * name as its API namespace.
 */
export class KubernetesProvider implements Provider, SnapshotHost {
  readonly name = "kubernetes";
  readonly chart: ChartSource;
  readonly kube: KubeClients;
  readonly helm: Helm;
  readonly clock: Clock;
  private readonly retry: RetryPolicy;
  private readonly readyTimeoutMs: number;
  private readonly storage: { options: StorageOptions | undefined; error: string | undefined };
  private readonly snapshots: SnapshotRunner;
  private reconciler: Reconciler | undefined;

  constructor(private readonly options: KubernetesProviderOptions) {
    this.chart = { ...DEFAULT_CHART, ...options.chart };
    this.kube = connect(options.connection);
    this.helm = new Helm({
      binary: options.helm ?? "helm",
      ...(options.connection.kubeconfig ? { kubeconfig: options.connection.kubeconfig } : {}),
      ...(options.connection.context ? { context: options.connection.context } : {}),
      ...(options.helmEnv ? { env: options.helmEnv } : {}),
    });
    this.clock = options.clock ?? systemClock;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.readyTimeoutMs = (options.readyTimeoutSeconds ?? 600) * 1000;
    this.storage = { options: undefined, error: undefined };
    if (options.snapshotUrl) {
      try {
        this.storage.options = parseStorageUrl(options.snapshotUrl);
      } catch (error) {
        this.storage.error = (error as Error).message;
      }
    }
    this.snapshots = new SnapshotRunner(this, this.storage.options, (options.snapshotTimeoutSeconds ?? 3600) * 1000);
  }

  /** Reads everything that makes up one vcluster on the host and says what state it is in. */
  async inspect(namespace: string, name: string, signal?: AbortSignal): Promise<Observation> {
    const host = await this.retried(
      `observing ${namespace}/${name}`,
      () => readHostState(this.kube, this.helm, namespace, name),
      signal,
    );
    return classify(namespace, name, host);
  }

  observe(target: ObservationTarget): void {
    this.reconciler ??= new Reconciler({
      kube: this.kube,
      inspect: (namespace, name) => this.inspect(namespace, name),
      target,
      clock: this.clock,
      resyncIntervalMs: this.options.resyncIntervalMs ?? 30_000,
    });
    this.reconciler.start();
  }

  async close(): Promise<void> {
    await this.reconciler?.stop();
  }

  async preflight(kind: OperationKind, vcluster: VCluster, details: PreflightDetails = {}): Promise<void> {
    if (kind === "create") return await this.preflightCreate(vcluster);
    if (kind === "snapshot" || kind === "restore") {
      const release = await this.retried("reading the Helm release", () =>
        this.helm.status(vcluster.name, vcluster.namespace),
      );
      const missing = snapshotSupport(
        kind,
        release,
        { url: this.options.snapshotUrl, error: this.storage.error },
        details,
      );
      if (missing) throw new ProviderPreconditionError(missing);
    }
  }

  /** Installing over a release the server did not make needs the explicit adoption label. */
  private async preflightCreate(vcluster: VCluster): Promise<void> {
    const { namespace, name } = vcluster;
    const existing = await this.retried("reading the Helm release", () => this.helm.status(name, namespace));
    const adopt = vcluster.labels[ADOPT_LABEL] === "true";
    if (adopt && !existing)
      throw new ProviderPreconditionError(
        `label ${ADOPT_LABEL}=true asks to adopt Helm release ${name} in namespace ${namespace}, but no such release exists`,
      );
    if (existing && !adopt)
      throw new ProviderPreconditionError(
        `Helm release ${name} already exists in namespace ${namespace} (chart ${existing.chartName}-${existing.chartVersion}); set label ${ADOPT_LABEL}=true to adopt it instead of installing`,
      );
    if (existing && existing.chartName !== this.chart.name)
      throw new ProviderPreconditionError(
        `Helm release ${namespace}/${name} was installed from chart ${existing.chartName}, not ${this.chart.name}; only releases of the vcluster chart can be adopted`,
      );
  }

  async run(op: ProviderOperation): Promise<ProviderResult> {
    try {
      switch (op.kind) {
        case "create":
          return op.snapshot ? await this.snapshots.restore(op, "create") : await this.create(op);
        case "update":
        case "scale":
          return await this.upgrade(op);
        case "suspend":
          return await this.suspend(op);
        case "resume":
          return await this.resume(op);
        case "delete":
          return await this.delete(op);
        case "snapshot":
          return await this.snapshots.snapshot(op);
        case "restore":
          return await this.snapshots.restore(op, "restore");
      }
    } catch (error) {
      if (op.signal.aborted || error instanceof ProviderError) throw error;
      throw new ProviderError(error instanceof Error ? error.message : String(error), op.kind);
    }
  }

  async kubeconfig(vcluster: VCluster, format: string, _validityHours: number): Promise<ProviderKubeconfig> {
    const { namespace, name } = vcluster;
    const secret = await this.retried("reading the kubeconfig secret", async () => {
      try {
        return await this.kube.core.readNamespacedSecret({ name: kubeconfigSecret(name), namespace });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
    if (!secret?.data?.config)
      throw new ProviderPreconditionError(
        `the vcluster has not written its kubeconfig yet: secret ${namespace}/${kubeconfigSecret(name)} ${secret ? "has no key config" : "does not exist"}`,
      );
    const endpoint = vcluster.status?.apiServerEndpoint || `https://${name}.${namespace}.svc:443`;
    const yaml = rewriteKubeconfig(Buffer.from(secret.data.config, "base64").toString("utf8"), {
      name: `vcluster_${name}_${namespace}`,
      server: endpoint,
      format,
      ...(secret.data.token ? { token: Buffer.from(secret.data.token, "base64").toString("utf8") } : {}),
    });
    return { yaml, endpoint };
  }

  retried<T>(what: string, action: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(what, action, { clock: this.clock, policy: this.retry, ...(signal ? { signal } : {}) });
  }

  private async create(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    await this.ensureNamespace(namespace, op.signal);
    const existing = await this.retried(
      "reading the Helm release",
      () => this.helm.status(name, namespace, op.signal),
      op.signal,
    );
    if (!existing) {
      await this.install("install", op);
    } else if (op.vcluster.labels[ADOPT_LABEL] !== "true" && existing.status !== "deployed") {
      // Our own earlier attempt (the server restarted mid-create, or the install failed): finish it.
      await this.install("upgrade", op);
    }
    return await this.waitRunning(op);
  }

  private async upgrade(op: ProviderOperation): Promise<ProviderResult> {
    await this.install("upgrade", op);
    return await this.waitRunning(op);
  }

  private async install(mode: "install" | "upgrade", op: ProviderOperation): Promise<HelmRelease> {
    return await this.installValues(mode, op, renderValues(op.vcluster));
  }

  /** helm install/upgrade of the vcluster's release with exactly `values` (no waiting). */
  async installValues(mode: "install" | "upgrade", op: ProviderOperation, values: Values): Promise<HelmRelease> {
    const { namespace, name } = op.vcluster;
    return await this.retried(
      `helm ${mode} ${namespace}/${name}`,
      () =>
        this.helm.apply(mode, { name, namespace }, this.chart, values, {
          signal: op.signal,
          timeoutSeconds: Math.round(this.readyTimeoutMs / 1000),
        }),
      op.signal,
    );
  }

  async ensureNamespace(namespace: string, signal: AbortSignal): Promise<void> {
    await this.retried(
      `creating namespace ${namespace}`,
      async () => {
        try {
          await this.kube.core.readNamespace({ name: namespace });
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        try {
          await this.kube.core.createNamespace({
            body: { metadata: { name: namespace, labels: { [MANAGED_LABEL]: MANAGED_VALUE } } },
          });
        } catch (error) {
          // Created meanwhile by someone else: then it is theirs, not ours.
          if ((error as { code?: number }).code !== 409) throw error;
        }
      },
      signal,
    );
  }

  /** Waits until every control-plane replica is Ready and the kubeconfig secret exists. */
  private async waitRunning(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const deadline = this.clock.now().getTime() + this.readyTimeoutMs;
    for (;;) {
      const seen = await this.inspect(namespace, name, op.signal);
      if (seen.state === "running") return resultOf(seen);
      if (seen.state === "failed" && seen.reason !== "StatefulSetMissing")
        throw new ProviderError(seen.message, op.kind);
      if (this.clock.now().getTime() > deadline)
        throw new ProviderError(`not ready after ${this.readyTimeoutMs / 1000}s: ${seen.message}`, op.kind);
      await this.clock.sleep(500, op.signal);
    }
  }

  private async statefulSet(namespace: string, name: string, signal: AbortSignal): Promise<V1StatefulSet> {
    return await this.retried(
      `reading StatefulSet ${namespace}/${name}`,
      () => this.kube.apps.readNamespacedStatefulSet({ name, namespace }),
      signal,
    );
  }

  pause(op: ProviderOperation): Promise<ProviderResult> {
    return this.suspend(op);
  }

  unpause(op: ProviderOperation): Promise<ProviderResult> {
    return this.resume(op);
  }

  /** vcluster's pause: record the replicas in annotations, scale to zero, remove the workload pods. */
  private async suspend(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const sts = await this.statefulSet(namespace, name, op.signal);
    if (op.drainWorkloads)
      await this.deleteWorkloadPods(namespace, name, undefined, op.drainTimeoutSeconds || 30, op.signal);
    if (sts.metadata?.annotations?.[PAUSED] !== "true") {
      const replicas = sts.spec?.replicas || op.vcluster.spec?.replicas || 1;
      const patch = {
        metadata: {
          annotations: {
            [PAUSED]: "true",
            [PAUSED_REPLICAS]: String(replicas),
            [PAUSED_DATE]: this.clock.now().toISOString(),
          },
        },
        spec: { replicas: 0 },
      };
      await this.retried(
        `pausing StatefulSet ${namespace}/${name}`,
        () => this.kube.apps.patchNamespacedStatefulSet({ name, namespace, body: patch }, mergePatch),
        op.signal,
      );
    }
    await this.until(op, "the control-plane pods to stop", async () => {
      const pods = await this.kube.core.listNamespacedPod({ namespace, labelSelector: controlPlaneSelector(name) });
      return pods.items.length === 0;
    });
    await this.deleteWorkloadPods(namespace, name, 0, 60, op.signal);
    const seen = await this.inspect(namespace, name, op.signal);
    return resultOf(seen);
  }

  /** vcluster's resume: the recorded replica count back, the pause annotations gone. */
  private async resume(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const sts = await this.statefulSet(namespace, name, op.signal);
    const recorded = Number(sts.metadata?.annotations?.[PAUSED_REPLICAS] ?? "");
    const replicas = Number.isInteger(recorded) && recorded > 0 ? recorded : op.vcluster.spec?.replicas || 1;
    const patch = {
      metadata: { annotations: { [PAUSED]: null, [PAUSED_REPLICAS]: null, [PAUSED_DATE]: null } },
      spec: { replicas },
    };
    await this.retried(
      `resuming StatefulSet ${namespace}/${name}`,
      () => this.kube.apps.patchNamespacedStatefulSet({ name, namespace, body: patch }, mergePatch),
      op.signal,
    );
    return await this.waitRunning(op);
  }

  private async deleteWorkloadPods(
    namespace: string,
    name: string,
    gracePeriodSeconds: number | undefined,
    timeoutSeconds: number,
    signal: AbortSignal,
  ): Promise<void> {
    await this.retried(
      `deleting the workload pods of ${namespace}/${name}`,
      () =>
        this.kube.core.deleteCollectionNamespacedPod({
          namespace,
          labelSelector: workloadSelector(name),
          ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
        }),
      signal,
    );
    await this.until(
      { signal, kind: "suspend" },
      "the workload pods to go",
      async () =>
        (await this.kube.core.listNamespacedPod({ namespace, labelSelector: workloadSelector(name) })).items.length ===
        0,
      timeoutSeconds * 1000,
    );
  }

  private async delete(op: ProviderOperation): Promise<ProviderResult> {
    const { namespace, name } = op.vcluster;
    const force = op.force === true || op.gracePeriodSeconds === 0;
    const grace = op.gracePeriodSeconds ?? 30;
    const ns = await this.retried(
      `reading namespace ${namespace}`,
      async () => {
        try {
          return await this.kube.core.readNamespace({ name: namespace });
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      },
      op.signal,
    );
    if (!ns) return {};
    if (op.deleteSnapshots && !force) await this.deleteStoredSnapshots(op);
    if (!force) await this.deleteWorkloadPods(namespace, name, grace, grace + 30, op.signal);
    await this.retried(
      `helm uninstall ${namespace}/${name}`,
      () =>
        this.helm.uninstall(name, namespace, {
          signal: op.signal,
          timeoutSeconds: Math.max(grace, 30) + 60,
          wait: !force,
        }),
      op.signal,
    );
    // What the vcluster itself made at runtime is not part of the release.
    await this.deleteIfPresent(
      () => this.kube.core.deleteNamespacedSecret({ name: kubeconfigSecret(name), namespace }),
      op.signal,
    );
    const claims = await this.kube.core.listNamespacedPersistentVolumeClaim({ namespace });
    for (const claim of claims.items) {
      const claimName = claim.metadata?.name ?? "";
      if (claimName.startsWith(`data-${name}-`))
        await this.deleteIfPresent(
          () => this.kube.core.deleteNamespacedPersistentVolumeClaim({ name: claimName, namespace }),
          op.signal,
        );
    }
    await this.deleteWorkloadPods(namespace, name, 0, 60, op.signal);
    await this.snapshots.releaseRequests(op, op.deleteSnapshots === true);
    const ours = ns.metadata?.labels?.[MANAGED_LABEL] === MANAGED_VALUE;
    const others = (await this.helm.list(namespace, op.signal)).filter((r) => r.name !== name);
    if (ours && others.length === 0) {
      await this.deleteIfPresent(() => this.kube.core.deleteNamespace({ name: namespace }), op.signal);
      if (!force)
        await this.until(op, `namespace ${namespace} to be removed`, async () => {
          try {
            await this.kube.core.readNamespace({ name: namespace });
            return false;
          } catch (error) {
            if (isNotFound(error)) return true;
            throw error;
          }
        });
    }
    return {};
  }

  /**
   * Stored snapshots go through vcluster's own deletion requests, which only a running control
   * plane of vcluster 0.31.0 or newer serves: otherwise (suspended, older, no storage
   * configured) the stored files stay where they are and only the records go.
   */
  private async deleteStoredSnapshots(op: ProviderOperation): Promise<void> {
    const { namespace, name } = op.vcluster;
    if (!op.snapshots?.length || !this.storage.options) return;
    const seen = await this.inspect(namespace, name, op.signal);
    const appVersion = seen.helmRelease?.appVersion ?? "";
    if (seen.state !== "running" || !atLeast(appVersion, MIN_SNAPSHOT_DELETE_APP_VERSION)) return;
    const failures = await this.snapshots.deleteStored(op, op.snapshots);
    if (failures.length > 0)
      throw new ProviderError(`deleting the stored snapshots failed: ${failures.join("; ")}`, op.kind);
  }

  private async deleteIfPresent(action: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
    await this.retried(
      "deleting",
      async () => {
        try {
          await action();
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
      signal,
    );
  }

  async until(
    op: Pick<ProviderOperation, "signal" | "kind">,
    what: string,
    check: () => Promise<boolean>,
    timeoutMs = this.readyTimeoutMs,
  ): Promise<void> {
    const deadline = this.clock.now().getTime() + timeoutMs;
    for (;;) {
      if (await this.retried(`waiting for ${what}`, check, op.signal)) return;
      if (this.clock.now().getTime() > deadline) throw new ProviderError(`timed out waiting for ${what}`, op.kind);
      await this.clock.sleep(500, op.signal);
    }
  }
}

function resultOf(seen: Observation): ProviderResult {
  return {
    ...(seen.usage ? { usage: seen.usage } : {}),
    ...(seen.helmRelease ? { helmRelease: seen.helmRelease } : {}),
    ...(seen.endpoint ? { endpoint: seen.endpoint } : {}),
    readyReplicas: seen.readyReplicas,
  };
}
