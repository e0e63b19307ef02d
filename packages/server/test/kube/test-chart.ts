import { cp, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import type { KubeCluster } from "./cluster.js";

/**
 * Copies the test chart (the shape of the vcluster chart: StatefulSet, Service and the
 * kubeconfig Secret vc-<name>) next to the cluster, with a kubeconfig that really works:
 * it points at the test cluster's API server, standing in for the virtual one. `appVersion`
 * makes the chart claim that vcluster version (what the server reads from Helm to decide
 * which vcluster features the control plane serves).
 */
export async function writeTestChart(
  cluster: KubeCluster,
  token = cluster.adminToken,
  options: { appVersion?: string } = {},
): Promise<string> {
  const dir = join(cluster.dir, options.appVersion ? `chart-${options.appVersion}` : "chart");
  await cp(resolve(import.meta.dirname, "chart"), dir, { recursive: true });
  const defaults = parse(await readFile(join(dir, "values.yaml"), "utf8"));
  defaults.testKubeconfig = { server: cluster.server, token, caData: Buffer.from(cluster.caPem).toString("base64") };
  await writeFile(join(dir, "values.yaml"), stringify(defaults));
  if (options.appVersion) {
    const chart = parse(await readFile(join(dir, "Chart.yaml"), "utf8"));
    chart.appVersion = options.appVersion;
    await writeFile(join(dir, "Chart.yaml"), stringify(chart));
  }
  return dir;
}
