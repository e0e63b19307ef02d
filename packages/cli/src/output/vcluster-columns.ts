import { Phase, type VCluster } from "@open-vcluster/api";
import { age, labelsText, titleCase } from "./humanize.js";
import type { Column } from "./table.js";

export function phaseText(vcluster: VCluster): string {
  return titleCase(Phase[vcluster.status?.phase ?? Phase.UNSPECIFIED]);
}

function pair(request: string | undefined, limit: string | undefined): string {
  return `${request || "-"}/${limit || "-"}`;
}

/** Columns of `list`, `get` and `watch`; NAMESPACE only when the rows span namespaces. */
export function vclusterColumns(showNamespace: boolean): Column<VCluster>[] {
  const columns: Column<VCluster>[] = [
    { header: "NAME", value: (v) => v.name },
    { header: "PHASE", value: phaseText },
    { header: "VERSION", value: (v) => v.spec?.kubernetesVersion || "-" },
    { header: "READY", value: (v) => `${v.status?.readyReplicas ?? 0}/${v.status?.totalReplicas ?? 0}` },
    { header: "AGE", value: (v, now) => age(v.createTime, now) },
    { header: "CPU", wide: true, value: (v) => pair(v.spec?.resources?.cpuRequest, v.spec?.resources?.cpuLimit) },
    {
      header: "MEMORY",
      wide: true,
      value: (v) => pair(v.spec?.resources?.memoryRequest, v.spec?.resources?.memoryLimit),
    },
    { header: "ENDPOINT", wide: true, value: (v) => v.status?.apiServerEndpoint || "-" },
    { header: "LABELS", wide: true, value: (v) => labelsText(v.labels) },
    { header: "ID", wide: true, value: (v) => v.id },
  ];
  return showNamespace ? [{ header: "NAMESPACE", value: (v) => v.namespace }, ...columns] : columns;
}
