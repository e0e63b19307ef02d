import type { VCluster } from "@open-vcluster/api";
import { phaseLabel } from "../format/phase.js";
import { toDate } from "../format/time.js";

export type SortColumn = "name" | "phase" | "namespace" | "owner" | "cpu" | "memory" | "pods" | "age";
export interface Sort {
  column: SortColumn;
  descending: boolean;
}

export const DEFAULT_SORT: Sort = { column: "name", descending: false };
export const SORT_COLUMNS: SortColumn[] = ["name", "phase", "namespace", "owner", "cpu", "memory", "pods", "age"];

const SUFFIXES: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number, for ordering ("250m" < "1" < "1Ki"); -1 when absent or unreadable. */
export function quantityValue(text: string | undefined): number {
  const match = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(text?.trim() ?? "");
  if (!match) return -1;
  const factor = match[2] ? SUFFIXES[match[2]] : 1;
  return factor === undefined ? -1 : Number(match[1]) * factor;
}

type Key = string | number;

const KEYS: Record<SortColumn, (v: VCluster) => Key> = {
  name: (v) => v.name,
  phase: (v) => phaseLabel(v.status?.phase ?? 0),
  namespace: (v) => v.namespace,
  owner: (v) => v.owner,
  cpu: (v) => quantityValue(v.status?.currentUsage?.cpuUsage),
  memory: (v) => quantityValue(v.status?.currentUsage?.memoryUsage),
  pods: (v) => v.status?.currentUsage?.podCount ?? -1,
  // Age grows as creation goes back: ascending age is newest first.
  age: (v) => -(toDate(v.createTime)?.getTime() ?? 0),
};

function compareKeys(a: Key, b: Key): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** Orders by the column, then by namespace and name, so equal keys keep a stable, readable order. */
export function sortVClusters(vclusters: VCluster[], sort: Sort): VCluster[] {
  const key = KEYS[sort.column];
  const direction = sort.descending ? -1 : 1;
  return [...vclusters].sort(
    (a, b) =>
      direction * compareKeys(key(a), key(b)) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
}
