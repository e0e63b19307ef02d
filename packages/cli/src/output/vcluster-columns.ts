import { Phase, type VCluster } from "@open-vcluster/api";
import { age, labelsText } from "./humanize.js";
import { LONGEST_PHASE_NAME, phaseName } from "./phase-names.js";
import { endpointIsSimulated } from "./simulated.js";
import type { Column } from "./table.js";

export function phaseText(vcluster: VCluster): string {
  return phaseName(vcluster.status?.phase ?? Phase.UNSPECIFIED);
}

function pair(request: string | undefined, limit: string | undefined): string {
  return `${request || "-"}/${limit || "-"}`;
}

/** Columns of `list`, `get` and `watch`; NAMESPACE only when the rows span namespaces. */
export function vclusterColumns(showNamespace: boolean): Column<VCluster>[] {
  const columns: Column<VCluster>[] = [
    { header: "NAME", value: (v) => v.name },
    { header: "PHASE", value: phaseText, minWidth: LONGEST_PHASE_NAME },
    { header: "VERSION", value: (v) => v.spec?.kubernetesVersion || "-" },
    { header: "READY", minWidth: 5, value: (v) => `${v.status?.readyReplicas ?? 0}/${v.status?.totalReplicas ?? 0}` },
    { header: "AGE", minWidth: 6, value: (v, now) => age(v.createTime, now) },
    { header: "CPU", wide: true, value: (v) => pair(v.spec?.resources?.cpuRequest, v.spec?.resources?.cpuLimit) },
    {
      header: "MEMORY",
      wide: true,
      value: (v) => pair(v.spec?.resources?.memoryRequest, v.spec?.resources?.memoryLimit),
    },
    {
      header: "ENDPOINT",
      wide: true,
      value: (v) => `${v.status?.apiServerEndpoint || "-"}${endpointIsSimulated(v) ? " (simulated)" : ""}`,
    },
    { header: "LABELS", wide: true, value: (v) => labelsText(v.labels) },
    { header: "ID", wide: true, value: (v) => v.id },
  ];
  return showNamespace ? [{ header: "NAMESPACE", value: (v) => v.namespace }, ...columns] : columns;
}
