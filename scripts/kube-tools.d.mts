/** The tools/kube binaries a test can ask for. */
export type KubeTool =
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kubectl"
  | "etcd"
  | "kwok"
  | "helm";
/** Builds tools/kube once (cached by its pins and the Go version) and returns the directory of its binaries. */
export declare function kubeToolsDir(): string;
/** The path of one built tools/kube binary. */
export declare function ensureKubeTool(name: KubeTool): string;
