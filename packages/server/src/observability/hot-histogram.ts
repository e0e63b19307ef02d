import type { Registry } from "prom-client";

interface Series {
  readonly labels: Record<string, string>;
  // Per bucket, not cumulative; the last one is +Inf.
  readonly counts: number[];
  sum: number;
  count: number;
}

/** What one observation costs: a bucket search and three additions. */
export type Observe = (value: number) => void;

/**
 * A Prometheus histogram for the per-call paths, exposed through a prom-client registry like any
 * of its metrics. prom-client's own `observe` builds, validates and hashes its labels object on
 * every call, even through a child from `labels()`; measured on unary calls, that was a large
 * part of what the metrics cost. Here the labels are resolved once per label values (`series`),
 * and an observation only counts. What the registry prints is what prom-client's Histogram
 * prints for the same observations (checked in the tests).
 */
export class HotHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, Series>();
  readonly #observers = new Map<string, Observe>();

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
    registers: readonly Registry[];
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    this.#buckets = [...options.buckets].sort((a, b) => a - b);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The observer of one series (label values in `labelNames` order), made once. */
  series(...values: string[]): Observe {
    const key = values.join("\u0000");
    const known = this.#observers.get(key);
    if (known !== undefined) return known;
    const labels = Object.fromEntries(this.#labelNames.map((name, i) => [name, values[i] ?? ""]));
    const series: Series = { labels, counts: new Array(this.#buckets.length + 1).fill(0), sum: 0, count: 0 };
    const buckets = this.#buckets;
    const observe: Observe = (value) => {
      let i = 0;
      while (i < buckets.length && value > (buckets[i] as number)) i++;
      series.counts[i] = (series.counts[i] as number) + 1;
      series.sum += value;
      series.count += 1;
    };
    this.#series.set(key, series);
    this.#observers.set(key, observe);
    return observe;
  }

  /** How many observations each series has, by its labels (for a counter that counts the same). */
  counts(): { labels: Record<string, string>; count: number }[] {
    return [...this.#series.values()].map(({ labels, count }) => ({ labels, count }));
  }

  // The registry's view, in prom-client's shape: cumulative buckets with `le`, then sum and count.
  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      let cumulative = 0;
      this.#buckets.forEach((bound, i) => {
        cumulative += counts[i] as number;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: "+Inf", ...labels }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
