import type { PreflightDetails } from "../types.js";
import type { HelmRelease } from "./helm.js";
import { MIN_SNAPSHOT_APP_VERSION } from "./names.js";
import { recordedSnapshot } from "./snapshot-runner.js";

function versionParts(version: string): number[] {
  return (/^v?(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
}

/**
 * Whether `version` is `minimum` or newer, by major.minor.patch: pre-releases of a minimum count
 * (vcluster's own CLI accepts 0.29.0-alpha.1 for snapshot requests).
 */
export function atLeast(version: string, minimum: string): boolean {
  const a = versionParts(version);
  const b = versionParts(minimum);
  if (a.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

const tooOld = (what: string, appVersion: string, chart: string) =>
  `vcluster ${appVersion || "(unknown version)"} (chart ${chart}) cannot take ${what}: vcluster ${MIN_SNAPSHOT_APP_VERSION} or newer is needed`;

/**
 * What the host lacks for a snapshot or restore through vcluster's own snapshot requests and
 * restore, or undefined when nothing is missing. `release` is the target's Helm release.
 */
export function snapshotSupport(
  kind: "snapshot" | "restore",
  release: HelmRelease | undefined,
  storage: { url: string | undefined; error: string | undefined },
  details: PreflightDetails,
): string | undefined {
  const createNew = kind === "restore" && details.createNew === true;
  if (!createNew) {
    if (!release)
      return `the vcluster has no Helm release on the host to ${kind === "snapshot" ? "snapshot" : "restore into"}`;
    if (!atLeast(release.appVersion, MIN_SNAPSHOT_APP_VERSION))
      return tooOld("snapshot requests", release.appVersion, `${release.chartName}-${release.chartVersion}`);
  } else if (release) {
    return `Helm release ${release.name} already exists in namespace ${release.namespace}: restoring into a new vcluster installs a release of that name`;
  }
  if (!storage.url)
    return "no snapshot storage is configured: start the server with --snapshot-url (oci://, s3:// or container:///path)";
  if (storage.error) return `the configured --snapshot-url cannot be used: ${storage.error}`;
  if (kind === "restore") {
    if (details.restoreWorkloads)
      return "restore_workloads is not supported: vcluster restores the virtual cluster's API state from its backing-store snapshot, not workload volumes";
    const record = recordedSnapshot(details.backingStore);
    if (!record)
      return "the snapshot was not taken through a vcluster snapshot request (it records no vcluster snapshot URL), so vcluster cannot restore it";
    if (!atLeast(record.release.appVersion, MIN_SNAPSHOT_APP_VERSION))
      return tooOld(
        "restores",
        record.release.appVersion,
        `${record.release.chartName}-${record.release.chartVersion}`,
      );
  }
  return undefined;
}
