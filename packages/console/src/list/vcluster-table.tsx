import type { VCluster } from "@open-vcluster/api";
import { formatByteQuantity } from "../format/quantity.js";
import { formatAge, toDate } from "../format/time.js";
import { Link } from "../routing/link.js";
import { detailPath } from "../routing/route.js";
import { LabelsView } from "../ui/labels-view.js";
import { PhaseBadge } from "../ui/phase-badge.js";

export function VClusterTable(props: { vclusters: VCluster[]; now: number }) {
  return (
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Phase</th>
            <th>Namespace</th>
            <th>Owner / project</th>
            <th>Labels</th>
            <th class="numeric">CPU</th>
            <th class="numeric">Memory</th>
            <th class="numeric">Pods</th>
            <th class="numeric">Age</th>
          </tr>
        </thead>
        <tbody>
          {props.vclusters.map((v) => (
            <tr key={v.id} data-testid="vcluster-row" data-name={v.name} data-namespace={v.namespace}>
              <td>
                <Link href={detailPath(v.namespace, v.name)} class="name-link">
                  {v.name}
                </Link>
                <div class="muted small">Kubernetes {v.spec?.kubernetesVersion || "—"}</div>
              </td>
              <td>
                <PhaseBadge phase={v.status?.phase ?? 0} />
              </td>
              <td>{v.namespace}</td>
              <td>
                <div>{v.owner || "—"}</div>
                <div class="muted small">{v.project || "no project"}</div>
              </td>
              <td>
                <LabelsView labels={v.labels} limit={3} />
              </td>
              <td class="numeric">{v.status?.currentUsage?.cpuUsage || "—"}</td>
              <td class="numeric">{formatByteQuantity(v.status?.currentUsage?.memoryUsage)}</td>
              <td class="numeric">{v.status?.currentUsage ? v.status.currentUsage.podCount : "—"}</td>
              <td class="numeric" title={toDate(v.createTime)?.toISOString()}>
                {formatAge(toDate(v.createTime), props.now)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
