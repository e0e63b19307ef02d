// The smallest useful app on the SDK: a page of vclusters, then a live informer over them.
import { createWebClient } from "@open-vcluster/web";

const client = createWebClient({ baseUrl: location.origin });
const output = document.body;

for await (const vcluster of client.paginateVClusters({ pageSize: 20 })) {
  output.append(`${vcluster.namespace}/${vcluster.name}\n`);
}
const informer = client.listWatch();
informer.on(() => {
  output.textContent = informer
    .list()
    .map((v) => v.name)
    .join("\n");
});
