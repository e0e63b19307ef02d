import type { VCluster } from "@open-vcluster/api";
import type { VClusterApiClient } from "@open-vcluster/web";

/** Fetches a kubeconfig and hands it to the browser as a file download. */
export async function downloadKubeconfig(client: VClusterApiClient, vcluster: VCluster): Promise<void> {
  const response = await client.vclusters.getVClusterKubeconfig({ name: vcluster.name, namespace: vcluster.namespace });
  const yaml = Uint8Array.from(atob(response.kubeconfig), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `${vcluster.name}.${vcluster.namespace}.kubeconfig.yaml`;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the object URL by now; keeping it would leak the blob.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
