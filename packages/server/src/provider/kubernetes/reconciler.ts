import type { KubernetesObject } from "@kubernetes/client-node";
import { makeInformer } from "@kubernetes/client-node";
import type { Clock } from "../../clock.js";
import type { Observation, ObservationTarget } from "../types.js";
import { describeError, type KubeClients } from "./kube.js";

export interface ReconcilerOptions {
  kube: KubeClients;
  inspect(namespace: string, name: string): Promise<Observation>;
  target: ObservationTarget;
  clock: Clock;
  resyncIntervalMs: number;
}

type Informer = ReturnType<typeof makeInformer<KubernetesObject>>;

/**
 * Keeps status true by watching what makes up each vcluster on the host — the control-plane
 * StatefulSets and pods, Helm's release records, the kubeconfig secrets and the namespaces —
 * and re-inspecting a vcluster whenever one of them changes, plus a periodic resync for what
 * no event announces (usage, a host that came back).
 */
export class Reconciler {
  private readonly informers: Informer[] = [];
  private readonly stopping = new AbortController();
  /** Keys with an inspection queued or running; a change during one queues exactly one more. */
  private readonly busy = new Map<string, { again: boolean }>();
  private readonly idle = new Set<Promise<void>>();

  constructor(private readonly options: ReconcilerOptions) {}

  start(): void {
    const { core, apps, config } = this.options.kube;
    const watch = (
      path: string,
      list: () => Promise<{ items: KubernetesObject[] }>,
      selector: string | undefined,
      key: (o: KubernetesObject) => [string, string] | undefined,
    ) => {
      const informer = makeInformer<KubernetesObject>(config, path, list as never, selector);
      const changed = (object: KubernetesObject) => {
        const found = key(object);
        if (found) this.schedule(found[0], found[1]);
      };
      informer.on("add", changed);
      informer.on("update", changed);
      informer.on("delete", changed);
      informer.on("error", () => {
        // The informer stopped; start it again after a pause unless we are stopping.
        if (this.stopping.signal.aborted) return;
        this.options.clock.sleep(1000, this.stopping.signal).then(
          () => informer.start().catch(() => undefined),
          () => undefined,
        );
      });
      this.informers.push(informer);
      informer.start().catch(() => undefined);
    };
    const byRelease = (o: KubernetesObject): [string, string] | undefined => {
      const ns = o.metadata?.namespace;
      const release = o.metadata?.labels?.release;
      return ns && release ? [ns, release] : undefined;
    };
    watch(
      "/apis/apps/v1/statefulsets",
      () => apps.listStatefulSetForAllNamespaces({ labelSelector: "app=vcluster" }),
      "app=vcluster",
      byRelease,
    );
    watch(
      "/api/v1/pods",
      () => core.listPodForAllNamespaces({ labelSelector: "app=vcluster" }),
      "app=vcluster",
      byRelease,
    );
    // Helm stores each release revision as a Secret labelled owner=helm,name=<release>.
    watch(
      "/api/v1/secrets",
      () => core.listSecretForAllNamespaces({ labelSelector: "owner=helm" }),
      "owner=helm",
      (o) => {
        const ns = o.metadata?.namespace;
        const name = o.metadata?.labels?.name;
        return ns && name ? [ns, name] : undefined;
      },
    );
    watch(
      "/api/v1/namespaces",
      () => core.listNamespace(),
      undefined,
      (o) => {
        const ns = o.metadata?.name;
        if (!ns) return undefined;
        void this.scheduleTracked((t) => t.namespace === ns);
        return undefined;
      },
    );
    void this.resyncLoop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
    await Promise.all([...this.idle]);
  }

  /** Resolves once no inspection is queued or running (tests). */
  async settled(): Promise<void> {
    while (this.idle.size > 0) await Promise.all([...this.idle]);
  }

  private async resyncLoop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await this.scheduleTracked(() => true);
      try {
        await this.options.clock.sleep(this.options.resyncIntervalMs, this.stopping.signal);
      } catch {
        return;
      }
    }
  }

  /** Schedules the tracked vclusters that `wanted` picks; a store that cannot answer is asked again at the next resync. */
  private async scheduleTracked(wanted: (t: { namespace: string; name: string }) => boolean): Promise<void> {
    let tracked: { namespace: string; name: string }[];
    try {
      tracked = await this.options.target.tracked();
    } catch {
      return;
    }
    for (const t of tracked) if (wanted(t)) this.schedule(t.namespace, t.name);
  }

  // Vclusters the API does not know are dropped inside the loop, when their version reads as undefined.
  private schedule(namespace: string, name: string): void {
    if (this.stopping.signal.aborted) return;
    const key = `${namespace}/${name}`;
    const entry = this.busy.get(key);
    if (entry) {
      entry.again = true;
      return;
    }
    const state = { again: false };
    this.busy.set(key, state);
    const run = (async () => {
      do {
        state.again = false;
        let version: string | undefined;
        try {
          version = await this.options.target.version(namespace, name);
        } catch {
          break;
        }
        if (version === undefined) break;
        let observation: Observation;
        try {
          observation = await this.options.inspect(namespace, name);
        } catch (error) {
          observation = {
            namespace,
            name,
            state: "unreachable",
            reason: "HostUnreachable",
            message: describeError(error),
            readyReplicas: 0,
            totalReplicas: 0,
          };
        }
        if (this.stopping.signal.aborted) break;
        try {
          if (!(await this.options.target.apply(observation, version))) state.again = true;
        } catch {
          // The store refused (closing); the next event or resync tries again.
        }
      } while (state.again && !this.stopping.signal.aborted);
      this.busy.delete(key);
    })();
    this.idle.add(run);
    void run.finally(() => this.idle.delete(run));
  }
}
