// Walks one vcluster through its whole lifecycle, printing each step.
// Usage: pnpm start [server-url]   (or VCLUSTER_API_URL; default http://127.0.0.1:8080)
import { createClient, errorDetail, isAlreadyExists, Phase, type VCluster } from "@open-vcluster/client";

const baseUrl = process.argv[2] ?? process.env.VCLUSTER_API_URL ?? "http://127.0.0.1:8080";
const token = process.env.VCLUSTER_API_TOKEN;
const client = createClient({ baseUrl, token, retry: { onRetry: (e) => console.log(`  retrying ${e.procedure}`) } });
const ref = { name: process.env.VCLUSTER_NAME ?? "example", namespace: "default" };
const progress = { onProgress: (v: VCluster) => console.log(`  phase ${Phase[v.status?.phase ?? Phase.UNSPECIFIED]}`) };

try {
  console.log(`creating ${ref.namespace}/${ref.name} on ${baseUrl}`);
  await client.vclusters.createVCluster({ ...ref, labels: { example: "node" } }).catch((error) => {
    if (!isAlreadyExists(error)) throw error;
    console.log("  already exists, reusing it");
  });
  await client.waitUntilRunning(ref, progress);
  console.log("running");

  for await (const vcluster of client.paginateVClusters({ labelSelector: "example=node" })) {
    console.log(`  listed ${vcluster.namespace}/${vcluster.name} (${vcluster.status?.apiServerEndpoint})`);
  }

  await client.vclusters.suspendVCluster(ref);
  await client.waitUntilSuspended(ref, progress);
  console.log("suspended");
  await client.vclusters.resumeVCluster(ref);
  await client.waitUntilRunning(ref, progress);
  console.log("resumed");

  const { snapshot } = await client.vclusters.snapshotVCluster({ ...ref, description: "example snapshot" });
  const ready = await client.waitUntilSnapshotReady(snapshot?.id ?? "");
  console.log(`snapshot ${ready.name} ready (${ready.sizeBytes} bytes at ${ready.storageUri})`);
  await client.vclusters.restoreVCluster({ ...ref, snapshotId: ready.id });
  await client.waitUntilRunning(ref, progress);
  console.log("restored");

  const kubeconfig = await client.vclusters.getVClusterKubeconfig({ ...ref, format: "token", validityHours: 1 });
  console.log(`kubeconfig for ${kubeconfig.apiServerEndpoint}:`);
  const yaml = Buffer.from(kubeconfig.kubeconfig, "base64").toString("utf8");
  console.log(yaml.replace(/^/gm, "    ").trimEnd());

  await client.vclusters.deleteVCluster({ ...ref, deleteSnapshots: true });
  await client.waitUntilDeleted(ref);
  console.log("deleted");
} catch (error) {
  const detail = errorDetail(error);
  console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  if (detail) console.error(`  reason ${detail.reason}${detail.field ? ` (field ${detail.field})` : ""}`);
  process.exitCode = 1;
}
