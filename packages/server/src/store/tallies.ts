/**
 * One transaction's changes to the kept tallies (vclusters per label pair and per namespace,
 * which answer the total of a lone requirement or a namespace without counting rows). Writes
 * sum their changes here; the SQL stores write the sums in one statement per table, before the
 * transaction reads a list or commits.
 */
export class Tallies {
  readonly #deltas = new Map<string, { kind: "label" | "namespace"; first: string; second: string; delta: number }>();
  decreased = false;

  #add(kind: "label" | "namespace", first: string, second: string, delta: number): void {
    const key = `${kind}\u0000${first}\u0000${second}`;
    const entry = this.#deltas.get(key) ?? { kind, first, second, delta: 0 };
    entry.delta += delta;
    this.#deltas.set(key, entry);
    if (delta < 0) this.decreased = true;
  }

  /** A vcluster goes from `before` to `after` (undefined: absent). */
  move(
    before: { namespace: string; labels: Record<string, string> } | undefined,
    after: { namespace: string; labels: Record<string, string> } | undefined,
  ): void {
    if (before?.namespace !== after?.namespace) {
      if (before) this.#add("namespace", before.namespace, "", -1);
      if (after) this.#add("namespace", after.namespace, "", 1);
    }
    const old = before?.labels ?? {};
    const now = after?.labels ?? {};
    for (const [key, value] of Object.entries(old)) if (now[key] !== value) this.#add("label", key, value, -1);
    for (const [key, value] of Object.entries(now)) if (old[key] !== value) this.#add("label", key, value, 1);
  }

  get empty(): boolean {
    return this.#deltas.size === 0;
  }

  clear(): void {
    this.#deltas.clear();
    this.decreased = false;
  }

  columns(kind: "label" | "namespace"): { first: string[]; second: string[]; deltas: number[] } {
    const entries = [...this.#deltas.values()].filter((e) => e.kind === kind && e.delta !== 0);
    return {
      first: entries.map((e) => e.first),
      second: entries.map((e) => e.second),
      deltas: entries.map((e) => e.delta),
    };
  }
}
