import { type Snapshot, SnapshotStatus } from "@open-vcluster/api";
import { formatBytes, formatDateTime, toDate } from "../format/time.js";

const STATUS: Record<SnapshotStatus, string> = {
  [SnapshotStatus.UNSPECIFIED]: "Unknown",
  [SnapshotStatus.CREATING]: "Creating",
  [SnapshotStatus.READY]: "Ready",
  [SnapshotStatus.FAILED]: "Failed",
  [SnapshotStatus.DELETING]: "Deleting",
};

export function SnapshotsTable(props: { snapshots: Snapshot[] }) {
  if (props.snapshots.length === 0) return <p class="muted">No snapshots yet.</p>;
  return (
    <table class="table table-compact">
      <thead>
        <tr>
          <th>Name</th>
          <th>Status</th>
          <th>Taken</th>
          <th>Expires</th>
          <th class="numeric">Size</th>
        </tr>
      </thead>
      <tbody>
        {props.snapshots.map((s) => (
          <tr key={s.id} data-testid="snapshot-row">
            <td>
              <div>{s.name}</div>
              {s.description ? <div class="muted small">{s.description}</div> : null}
            </td>
            <td>
              <span class={`snapshot-status snapshot-${STATUS[s.status].toLowerCase()}`}>{STATUS[s.status]}</span>
            </td>
            <td>{formatDateTime(toDate(s.createTime))}</td>
            <td>{s.expireTime ? formatDateTime(toDate(s.expireTime)) : "Never"}</td>
            <td class="numeric">{formatBytes(s.sizeBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
