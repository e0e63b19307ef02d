import type { HelmRelease } from "./helm.js";
import { MIN_SNAPSHOT_APP_VERSION } from "./names.js";

function versionParts(version: string): number[] {
  return (/^v?(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
}

function atLeast(version: string, minimum: string): boolean {
  const a = versionParts(version);
  const b = versionParts(minimum);
  if (a.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * What the host lacks for a vcluster snapshot or restore through vcluster's own snapshot
 * requests, or undefined when nothing is missing.
 */
export function snapshotSupport(
  release: HelmRelease | undefined,
  snapshotUrl: string | undefined,
  kind: "snapshot" | "restore",
  restoreWorkloads: boolean,
): string | undefined {
  if (!release) return "the vcluster has no Helm release on the host to snapshot";
  if (!atLeast(release.appVersion, MIN_SNAPSHOT_APP_VERSION))
    return `vcluster ${release.appVersion || "(unknown version)"} (chart ${release.chartName}-${release.chartVersion}) cannot take snapshot requests: vcluster ${MIN_SNAPSHOT_APP_VERSION} or newer is needed`;
  if (!snapshotUrl)
    return "no snapshot storage is configured: start the server with --snapshot-url (oci://, s3:// or container:///path)";
  if (kind === "restore" && restoreWorkloads)
    return "restore_workloads is not supported: vcluster snapshots capture the backing store and Helm values, not workload volumes";
  // The asynchronous request protocol itself is not spoken by this server yet.
  return "snapshots through vcluster snapshot requests are not implemented by this server yet";
}
