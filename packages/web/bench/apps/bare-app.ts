// The same reads written against connect-web alone: no retries, paging, reconnects or cache.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { VClusterService } from "@open-vcluster/api";

const client = createClient(
  VClusterService,
  createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true, useHttpGet: true }),
);
const output = document.body;

let pageToken = "";
do {
  const page = await client.listVClusters({ pageSize: 20, pageToken });
  for (const vcluster of page.vclusters) output.append(`${vcluster.namespace}/${vcluster.name}\n`);
  pageToken = page.nextPageToken;
} while (pageToken !== "");
for await (const event of client.watchVCluster({})) {
  output.append(`${event.type} ${event.vcluster?.name}\n`);
}
