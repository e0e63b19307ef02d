import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from "@kubernetes/client-node";

/*
 * Plays the snapshot controller of a vcluster control plane, which the test chart does not run
 * (KWOK runs no containers). It does on the host what vcluster's controller does with the
 * requests (facts from loft-sh/vcluster pkg/snapshot): it watches ConfigMaps labelled
 * vcluster.loft.sh/snapshot-request, adds its finalizer, moves the request JSON under the key
 * snapshotRequest from "" to CreatingEtcdBackup, reads the storage options from the Secret of
 * the same name (key snapshotOptions), ends the request Completed or Failed with
 * status.error.message, then deletes the Secret and drops the finalizer. Deletion requests go
 * Deleting -> DeletingEtcdBackup -> Deleted. What it read is kept for the test's assertions.
 */

export const FINALIZER = "vcluster.loft.sh/snapshot-controller";
const LABEL = "vcluster.loft.sh/snapshot-request";

export type Verdict = { complete: true } | { fail: string } | { hold: true };

export interface SeenRequest {
  namespace: string;
  name: string;
  /** The request JSON as the server created it (first sight). */
  created: string;
  configMap: V1ConfigMap;
  /** The options JSON from the request's Secret. */
  options?: string;
  secretLabels?: Record<string, string>;
  phase: string;
}

interface Request {
  metadata: { name: string; creationTimestamp?: string };
  spec: { url?: string };
  status: { phase?: string; error?: { message?: string } };
}

export class FakeSnapshotController {
  readonly seen = new Map<string, SeenRequest>();
  private readonly core: CoreV1Api;
  private readonly config: KubeConfig;
  private informer: ReturnType<typeof makeInformer<V1ConfigMap>> | undefined;
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly changed: (() => void)[] = [];
  /** Decides how a request (taking or deleting a snapshot) ends; default: completes. */
  verdict: (request: Request, namespace: string) => Verdict = () => ({ complete: true });

  constructor(kubeconfig: string) {
    this.config = new KubeConfig();
    this.config.loadFromFile(kubeconfig);
    this.core = this.config.makeApiClient(CoreV1Api);
  }

  /**
   * An informer, as controller-runtime uses: it lists, then watches, and when the watch ends
   * (the API server closes watches, a loaded machine drops them) it lists and watches again,
   * so no request is missed.
   */
  async start(): Promise<void> {
    const informer = makeInformer<V1ConfigMap>(
      this.config,
      "/api/v1/configmaps",
      () => this.core.listConfigMapForAllNamespaces({ labelSelector: LABEL }),
      LABEL,
    );
    informer.on("add", (object) => this.enqueue(object));
    informer.on("update", (object) => this.enqueue(object));
    informer.on("error", () => {
      if (!this.stopped) setTimeout(() => informer.start().catch(() => undefined), 500).unref();
    });
    this.informer = informer;
    await informer.start();
  }

  stop(): void {
    this.stopped = true;
    this.informer?.stop().catch(() => undefined);
  }

  /** Looks at a request again (after the verdict for it changed). */
  async reconcile(namespace: string, name: string): Promise<void> {
    this.enqueue(await this.core.readNamespacedConfigMap({ name, namespace }));
    await this.queue;
  }

  /** Resolves once some request seen satisfies `predicate` (event-driven, with a ceiling). */
  async until(predicate: (seen: SeenRequest[]) => boolean, timeoutMs = 120_000): Promise<SeenRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = [...this.seen.values()];
      if (predicate(all)) return all;
      if (Date.now() > deadline) throw new Error(`the snapshot requests never matched: ${JSON.stringify(all)}`);
      await new Promise<void>((resolve) => {
        this.changed.push(resolve);
        setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
      });
    }
  }

  private notify(): void {
    for (const resolve of this.changed.splice(0)) resolve();
  }

  /** One at a time, as vcluster's controller (MaxConcurrentReconciles 1). */
  private enqueue(configMap: V1ConfigMap): void {
    // A call the loaded API server never answers must not stall every later request: the next
    // event for that ConfigMap (or the informer's re-list) brings it back.
    const ceiling = () =>
      new Promise<void>((resolve) => {
        setTimeout(resolve, 30_000).unref();
      });
    this.queue = this.queue.then(() => Promise.race([this.handle(configMap), ceiling()])).catch(() => undefined);
  }

  private async patch(namespace: string, name: string, body: object): Promise<void> {
    await this.core.patchNamespacedConfigMap(
      { name, namespace, body },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  private async setPhase(configMap: V1ConfigMap, request: Request, phase: string, error?: string): Promise<void> {
    const next = { ...request, status: { phase, error: error ? { message: error } : {} } };
    await this.patch(configMap.metadata?.namespace ?? "", configMap.metadata?.name ?? "", {
      data: { snapshotRequest: JSON.stringify(next) },
    });
  }

  private async handle(stale: V1ConfigMap): Promise<void> {
    const namespace = stale.metadata?.namespace ?? "";
    const name = stale.metadata?.name ?? "";
    let configMap: V1ConfigMap;
    try {
      configMap = await this.core.readNamespacedConfigMap({ name, namespace });
    } catch {
      return;
    }
    const key = `${namespace}/${name}`;
    const request = JSON.parse(configMap.data?.snapshotRequest ?? "{}") as Request;
    const phase = request.status?.phase ?? "";
    const seen = this.seen.get(key) ?? {
      namespace,
      name,
      created: configMap.data?.snapshotRequest ?? "",
      configMap,
      phase,
    };
    seen.phase = phase;
    this.seen.set(key, seen);
    this.notify();
    const finalizers = configMap.metadata?.finalizers ?? [];
    const done = ["Completed", "Failed", "PartiallyFailed", "Canceled", "Deleted"].includes(phase);
    if (configMap.metadata?.deletionTimestamp || done) {
      await this.core.deleteNamespacedSecret({ name, namespace }).catch(() => undefined);
      if (finalizers.includes(FINALIZER))
        await this.patch(namespace, name, { metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER) } });
      return;
    }
    if (!finalizers.includes(FINALIZER)) {
      await this.patch(namespace, name, { metadata: { finalizers: [...finalizers, FINALIZER] } });
      return;
    }
    if (phase === "") return await this.setPhase(configMap, request, "CreatingEtcdBackup");
    if (phase === "Deleting") return await this.setPhase(configMap, request, "DeletingEtcdBackup");
    if (phase !== "CreatingEtcdBackup" && phase !== "DeletingEtcdBackup") return;
    const secret = await this.core.readNamespacedSecret({ name, namespace }).catch(() => undefined);
    if (!secret?.data?.snapshotOptions) {
      return await this.setPhase(configMap, request, "Failed", `can't find snapshot request Secret ${key}`);
    }
    seen.options = Buffer.from(secret.data.snapshotOptions, "base64").toString("utf8");
    seen.secretLabels = secret.metadata?.labels ?? {};
    this.notify();
    const verdict = this.verdict(request, namespace);
    if ("hold" in verdict) return;
    const creating = phase === "CreatingEtcdBackup";
    if ("fail" in verdict) return await this.setPhase(configMap, request, "Failed", verdict.fail);
    await this.setPhase(configMap, request, creating ? "Completed" : "Deleted");
  }
}
