import { Annotations, type VCluster } from "@open-vcluster/api";

/** The resource version the server stamped on the object; "" when absent. */
export function resourceVersionOf(vcluster: VCluster | undefined): string {
  return vcluster?.annotations[Annotations.resourceVersion] ?? "";
}

/**
 * Orders two resource versions (decimal strings, "" lowest) without converting to numbers, so
 * versions beyond 2^53 still compare correctly.
 */
export function compareResourceVersions(a: string, b: string): number {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function stripZeros(v: string): string {
  let i = 0;
  while (i < v.length - 1 && v[i] === "0") i++;
  return v.slice(i);
}
