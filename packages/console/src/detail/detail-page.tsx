import { Phase, type VCluster } from "@open-vcluster/api";
import { isTransitional, phaseLabel } from "../format/phase.js";
import { formatByteQuantity } from "../format/quantity.js";
import { formatAge, formatDateTime, toDate } from "../format/time.js";
import { Link } from "../routing/link.js";
import { useNow } from "../state/use-now.js";
import { LabelsView } from "../ui/labels-view.js";
import { PhaseBadge } from "../ui/phase-badge.js";
import { ActionBar } from "./action-bar.js";
import { ActivityTimeline } from "./activity-timeline.js";
import { ConditionsTable } from "./conditions-table.js";
import { SnapshotsTable } from "./snapshots-table.js";
import { SpecView } from "./spec-view.js";
import { UsageCharts } from "./usage-charts.js";
import { useActivity } from "./use-activity.js";
import { useSnapshots } from "./use-snapshots.js";
import { useUsage } from "./use-usage.js";
import { ConnectCommands, YamlView } from "./yaml-view.js";

export function DetailPage(props: {
  namespace: string;
  name: string;
  vcluster: VCluster | undefined;
  synced: boolean;
}) {
  if (!props.vcluster) {
    return (
      <main class="page">
        <Breadcrumbs name={props.name} />
        <div class="empty">
          {props.synced ? (
            <>
              <strong>
                {props.namespace}/{props.name} does not exist.
              </strong>
              <span class="muted">It may have been deleted.</span>
            </>
          ) : (
            <span>
              <span class="spinner" aria-hidden="true" /> Loading…
            </span>
          )}
        </div>
      </main>
    );
  }
  return <VClusterDetail vcluster={props.vcluster} />;
}

function Breadcrumbs(props: { name: string }) {
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumbs">
      <Link href="/">Virtual clusters</Link>
      <span aria-hidden="true">/</span>
      <span>{props.name}</span>
    </nav>
  );
}

function VClusterDetail(props: { vcluster: VCluster }) {
  const { vcluster } = props;
  const now = useNow();
  const { snapshots, error: snapshotsError } = useSnapshots(vcluster);
  const activity = useActivity(vcluster);
  const usageHistory = useUsage(vcluster);
  const status = vcluster.status;
  const phase = status?.phase ?? 0;
  const usage = status?.currentUsage;
  return (
    <main class="page">
      <Breadcrumbs name={vcluster.name} />
      <div class="page-header">
        <div>
          <h1 class="title-with-badge">
            {vcluster.name} <PhaseBadge phase={phase} />
          </h1>
          <p class="muted">
            Namespace {vcluster.namespace} · created {formatAge(toDate(vcluster.createTime), now)} ago
            {vcluster.owner ? ` by ${vcluster.owner}` : ""}
            {vcluster.project ? ` · project ${vcluster.project}` : ""}
          </p>
        </div>
      </div>
      <ActionBar vcluster={vcluster} snapshots={snapshots} />
      {isTransitional(phase) ? (
        <div class="progress-banner" role="status">
          <div class="progress-track">
            <div class="progress-bar" />
          </div>
          <span>
            {phaseLabel(phase)}… {status?.message}
          </span>
        </div>
      ) : status?.message && phase !== Phase.RUNNING ? (
        <div class={phase === Phase.ERROR ? "status-message status-error" : "status-message"}>
          {status.reason ? <strong>{status.reason}: </strong> : null}
          {status.message}
        </div>
      ) : null}
      <div class="cards">
        <section class="card">
          <h2>Overview</h2>
          <dl class="definition-list">
            <div>
              <dt>API server</dt>
              <dd class="mono">{status?.apiServerEndpoint || "—"}</dd>
            </div>
            <div>
              <dt>Ready replicas</dt>
              <dd>
                {status?.readyReplicas ?? 0} / {status?.totalReplicas ?? 0}
              </dd>
            </div>
            <div>
              <dt>Usage</dt>
              <dd>
                {usage
                  ? `CPU ${usage.cpuUsage || "—"} · memory ${formatByteQuantity(usage.memoryUsage)} · storage ${formatByteQuantity(usage.storageUsage)}`
                  : "—"}
              </dd>
            </div>
            <div>
              <dt>Workloads</dt>
              <dd>
                {usage
                  ? `${usage.podCount} pods · ${usage.namespaceCount} namespaces · ${usage.serviceCount} services`
                  : "—"}
              </dd>
            </div>
            <div>
              <dt>Helm release</dt>
              <dd>
                {status?.helmRelease
                  ? `chart ${status.helmRelease.chartVersion} · revision ${status.helmRelease.revision} · ${status.helmRelease.status}`
                  : "—"}
              </dd>
            </div>
            <div>
              <dt>Last ready</dt>
              <dd>{formatDateTime(toDate(status?.readyTime))}</dd>
            </div>
            <div>
              <dt>Labels</dt>
              <dd>
                <LabelsView labels={vcluster.labels} />
              </dd>
            </div>
            <div>
              <dt>Id</dt>
              <dd class="mono small">{vcluster.id}</dd>
            </div>
          </dl>
        </section>
        <section class="card">
          <h2>Spec</h2>
          <SpecView vcluster={vcluster} />
        </section>
      </div>
      <section class="card">
        <h2>Conditions</h2>
        <ConditionsTable conditions={status?.conditions ?? []} now={now} suspended={phase === Phase.SUSPENDED} />
      </section>
      <section class="card" aria-labelledby="usage-heading">
        <h2 id="usage-heading">Usage over time</h2>
        {usageHistory.error ? (
          <p class="field-error">Could not load the usage history: {usageHistory.error.message}</p>
        ) : null}
        <UsageCharts samples={usageHistory.samples} now={now} />
      </section>
      <section class="card">
        <h2>Activity</h2>
        {activity.error ? <p class="field-error">Could not load the activity: {activity.error.message}</p> : null}
        <ActivityTimeline events={activity.events} now={now} />
      </section>
      <section class="card">
        <h2>Connect</h2>
        <ConnectCommands vcluster={vcluster} />
      </section>
      <section class="card">
        <h2>Snapshots</h2>
        {snapshotsError ? <p class="field-error">Could not load snapshots: {snapshotsError.message}</p> : null}
        <SnapshotsTable snapshots={snapshots} />
      </section>
      <details class="card">
        <summary>
          <h2>YAML</h2>
        </summary>
        <YamlView vcluster={vcluster} />
      </details>
    </main>
  );
}
