import type { Condition } from "@open-vcluster/api";
import { formatAge, toDate } from "../format/time.js";

export function ConditionsTable(props: { conditions: Condition[]; now: number }) {
  if (props.conditions.length === 0) return <p class="muted">No conditions reported yet.</p>;
  return (
    <table class="table table-compact">
      <thead>
        <tr>
          <th>Type</th>
          <th>Status</th>
          <th>Reason</th>
          <th>Message</th>
          <th class="numeric">Changed</th>
        </tr>
      </thead>
      <tbody>
        {props.conditions.map((c) => (
          <tr key={c.type}>
            <td>{c.type}</td>
            <td>
              <span class={`condition condition-${c.status.toLowerCase()}`}>{c.status}</span>
            </td>
            <td>{c.reason || "—"}</td>
            <td>{c.message || "—"}</td>
            <td class="numeric">{formatAge(toDate(c.lastTransitionTime), props.now)} ago</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
