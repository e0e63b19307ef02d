import type { VClusterEvent } from "@open-vcluster/api";
import { withPhaseLabels } from "../format/phase.js";
import { formatAge, formatDateTime, toDate } from "../format/time.js";

function seconds(event: VClusterEvent): string {
  const d = event.duration;
  if (!d) return "";
  const total = Number(d.seconds) + d.nanos / 1e9;
  return total < 10 ? `${total.toFixed(1)} s` : `${Math.round(total)} s`;
}

/** The server-kept activity, newest first: who asked for what, how it ended and how long it took. */
export function ActivityTimeline(props: { events: VClusterEvent[]; now: number }) {
  if (props.events.length === 0) return <p class="muted">No activity recorded since the server started.</p>;
  const newestFirst = [...props.events].reverse();
  return (
    <ol class="timeline" aria-label="Activity">
      {newestFirst.map((event) => {
        const time = toDate(event.time);
        const tone =
          event.type === "Warning" ? "timeline-warning" : event.outcome === "Succeeded" ? "timeline-good" : "";
        return (
          <li
            key={String(event.sequence)}
            class={`timeline-item ${tone}`}
            data-testid="activity-event"
            data-reason={event.reason}
          >
            <span class="timeline-dot" aria-hidden="true" />
            <div class="timeline-body">
              <div class="timeline-head">
                <strong>{event.reason}</strong>
                {event.outcome ? (
                  <span class={`timeline-outcome outcome-${event.outcome.toLowerCase()}`}>{event.outcome}</span>
                ) : null}
                {seconds(event) ? <span class="muted small">took {seconds(event)}</span> : null}
              </div>
              <div>{withPhaseLabels(event.message)}</div>
              <div class="muted small">
                <time dateTime={time?.toISOString()} title={formatDateTime(time)}>
                  {formatAge(time, props.now)} ago
                </time>
                {event.actor ? ` · by ${event.actor}` : " · by the server"}
              </div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
