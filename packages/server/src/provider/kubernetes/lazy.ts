import type {
  ObservationTarget,
  OperationKind,
  Provider,
  ProviderKubeconfig,
  ProviderOperation,
  ProviderResult,
} from "../types.js";
import type { KubernetesProvider, KubernetesProviderOptions } from "./provider.js";

/** A Kubernetes provider that is loaded (with the Kubernetes client) only when it is used. */
export interface LazyKubernetesProvider extends Provider {
  /** Resolves once the client is loaded and the kubeconfig read; rejects with why not. */
  loaded(): Promise<void>;
}

/**
 * The Kubernetes provider behind a dynamic import: servers that simulate never load the
 * Kubernetes client (large, and it needs a newer Node than the rest of the server).
 */
export function createKubernetesProvider(options: KubernetesProviderOptions): LazyKubernetesProvider {
  const provider: Promise<KubernetesProvider> = import("./provider.js").then((m) => new m.KubernetesProvider(options));
  // Failures surface through loaded() and every call; never as an unhandled rejection.
  provider.catch(() => undefined);
  return {
    name: "kubernetes",
    loaded: async () => {
      await provider;
    },
    run: async (op: ProviderOperation): Promise<ProviderResult> => (await provider).run(op),
    preflight: async (kind: OperationKind, vcluster, details) => (await provider).preflight(kind, vcluster, details),
    kubeconfig: async (vcluster, format, validityHours): Promise<ProviderKubeconfig> =>
      (await provider).kubeconfig(vcluster, format, validityHours),
    observe(target: ObservationTarget) {
      provider.then(
        (p) => p.observe(target),
        () => undefined,
      );
    },
    close: async () => {
      const p = await provider.catch(() => undefined);
      await p?.close();
    },
  };
}
