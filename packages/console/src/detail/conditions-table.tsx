import type { Condition } from "@open-vcluster/api";
import { conditionHealth, HEALTH_TEXT } from "../format/condition-health.js";
import { formatAge, toDate } from "../format/time.js";

const MARK = { good: "✓", bad: "✕", neutral: "•" } as const;

export function ConditionsTable(props: { conditions: Condition[]; now: number; suspended: boolean }) {
  if (props.conditions.length === 0) return <p class="muted">No conditions reported yet.</p>;
  return (
    <div class="table-wrap">
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
          {props.conditions.map((c) => {
            const health = conditionHealth(c, props.suspended);
            return (
              <tr key={c.type} data-testid="condition-row" data-type={c.type}>
                <td>{c.type}</td>
                <td>
                  {/* Colour is not the only cue: the mark and the title say it too. */}
                  <span class={`condition condition-${health}`} data-health={health} title={HEALTH_TEXT[health]}>
                    <span aria-hidden="true">{MARK[health]}</span> {c.status}
                    <span class="visually-hidden"> ({HEALTH_TEXT[health]})</span>
                  </span>
                </td>
                <td>{c.reason || "—"}</td>
                <td>{c.message || "—"}</td>
                <td class="numeric">{formatAge(toDate(c.lastTransitionTime), props.now)} ago</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
