/** One point of a usage chart: from `timeMs` on, the value was `value` (until the next point). */
export interface UsagePoint {
  timeMs: number;
  value: number;
}

export interface ChartBox {
  width: number;
  height: number;
}

export interface StepChart {
  /** SVG path of the line: horizontal while the value holds, vertical where it changes. */
  line: string;
  /** The same, closed down to the baseline, for the shaded area. */
  area: string;
  /** Where the line ends: the current value, now. */
  end: { x: number; y: number };
  /** The highest value shown (the top of the chart); at least the largest value. */
  max: number;
  startMs: number;
  endMs: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A step chart of usage samples up to `nowMs`: usage holds its last sampled value until the
 * next sample, so the line runs flat and then jumps, and the last value reaches `nowMs`.
 * Time runs left to right over [first sample, now]; values bottom to top over [0, max].
 */
export function stepChart(points: readonly UsagePoint[], nowMs: number, box: ChartBox): StepChart | undefined {
  const first = points[0];
  if (!first) return undefined;
  const startMs = first.timeMs;
  const endMs = Math.max(nowMs, points.at(-1)?.timeMs ?? startMs, startMs + 1);
  const largest = Math.max(...points.map((p) => p.value));
  const max = largest > 0 ? largest * 1.15 : 1;
  const x = (t: number) => round(((t - startMs) / (endMs - startMs)) * box.width);
  const y = (v: number) => round(box.height - (v / max) * box.height);
  const parts = [`M${x(first.timeMs)},${y(first.value)}`];
  for (let i = 1; i < points.length; i++) {
    const point = points[i] as UsagePoint;
    const previous = points[i - 1] as UsagePoint;
    parts.push(`H${x(point.timeMs)}`);
    if (point.value !== previous.value) parts.push(`V${y(point.value)}`);
  }
  parts.push(`H${x(endMs)}`);
  const line = parts.join(" ");
  const end = { x: x(endMs), y: y(points.at(-1)?.value ?? 0) };
  return { line, area: `${line} V${box.height} H${x(startMs)} Z`, end, max, startMs, endMs };
}
