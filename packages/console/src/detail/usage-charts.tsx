import type { UsageSample } from "@open-vcluster/api";
import { formatBytes, formatDateTime, toDate } from "../format/time.js";
import { stepChart, type UsagePoint } from "../format/usage-series.js";

const BOX = { width: 320, height: 80 };
// Room around the plot for the line's width and the marker of the current value.
const PAD = 4;

export function formatCores(cores: number): string {
  if (cores === 0) return "0 cores";
  return cores < 1 ? `${Math.max(1, Math.round(cores * 1000))}m cores` : `${cores.toFixed(2)} cores`;
}

interface Series {
  key: string;
  title: string;
  format: (value: number) => string;
  value: (sample: UsageSample) => number;
}

const SERIES: Series[] = [
  { key: "cpu", title: "CPU", format: formatCores, value: (s) => s.cpuCores },
  { key: "memory", title: "Memory", format: (v) => formatBytes(v), value: (s) => Number(s.memoryBytes) },
  { key: "storage", title: "Storage", format: (v) => formatBytes(v), value: (s) => Number(s.storageBytes) },
];

/** CPU, memory and storage over time, from the samples the server keeps, up to now. */
export function UsageCharts(props: { samples: UsageSample[]; now: number }) {
  const timed = props.samples.filter((s) => s.time !== undefined);
  if (timed.length === 0) return <p class="muted">No usage reported yet.</p>;
  const since = toDate(timed[0]?.time);
  return (
    <div class="usage-charts">
      {SERIES.map((series) => {
        const points: UsagePoint[] = timed.map((s) => ({
          timeMs: toDate(s.time)?.getTime() ?? 0,
          value: series.value(s),
        }));
        return <UsageChart key={series.key} series={series} points={points} now={props.now} since={since} />;
      })}
    </div>
  );
}

function UsageChart(props: { series: Series; points: UsagePoint[]; now: number; since: Date | undefined }) {
  const { series, points } = props;
  const chart = stepChart(points, props.now, BOX);
  if (!chart) return null;
  const values = points.map((p) => p.value);
  const current = values.at(-1) ?? 0;
  const low = Math.min(...values);
  const high = Math.max(...values);
  const range =
    low === high ? `steady at ${series.format(high)}` : `between ${series.format(low)} and ${series.format(high)}`;
  const summary = `${series.title} since ${formatDateTime(props.since)}: ${range}, now ${series.format(current)}`;
  return (
    <figure class="usage-chart" data-testid="usage-chart" data-series={series.key}>
      <figcaption>
        <span>{series.title}</span>
        <strong data-testid="usage-now">{series.format(current)}</strong>
      </figcaption>
      <svg
        viewBox={`${-PAD} ${-PAD} ${BOX.width + 2 * PAD} ${BOX.height + 2 * PAD}`}
        role="img"
        aria-label={summary}
        class={`usage-svg usage-${series.key}`}
      >
        <title>{summary}</title>
        <path class="usage-area" d={chart.area} />
        <path class="usage-line" d={chart.line} />
        {/* The current value, so a change at the right edge (e.g. just suspended) is visible. */}
        <circle class="usage-now" cx={chart.end.x} cy={chart.end.y} r={3.5} />
      </svg>
      <div class="usage-axis muted small" aria-hidden="true">
        <span>{formatDateTime(props.since)}</span>
        <span>peak {series.format(high)}</span>
        <span>now</span>
      </div>
    </figure>
  );
}
