import { describe, expect, it } from "vitest";
import type { HelmRelease } from "./helm.js";
import { RECORD_KEY } from "./snapshot-runner.js";
import { atLeast, snapshotSupport } from "./snapshots.js";

const release = (appVersion: string): HelmRelease => ({
  name: "alpha",
  namespace: "team-a",
  revision: 1,
  status: "deployed",
  chartName: "vcluster",
  chartVersion: appVersion,
  appVersion,
});
const storage = { url: "container:///data/s", error: undefined };
const recorded = (appVersion: string) => ({
  [RECORD_KEY]: {
    url: "container:///data/s/team-a/alpha-1.tar.gz",
    request: {},
    release: { appVersion, chartName: "vcluster", chartVersion: appVersion },
  },
});

describe("what the host lacks for vcluster snapshots", () => {
  it("compares versions as vcluster's CLI does, pre-releases of the minimum included", () => {
    expect(atLeast("0.29.0-alpha.1", "0.29.0")).toBe(true);
    expect(atLeast("v0.30.2", "0.29.0")).toBe(true);
    expect(atLeast("0.28.9", "0.29.0")).toBe(false);
    expect(atLeast("1.0.0", "0.29.0")).toBe(true);
    expect(atLeast("", "0.29.0")).toBe(false);
  });

  it("names each missing capability precisely", () => {
    expect(snapshotSupport("snapshot", undefined, storage, {})).toMatch(/no Helm release on the host to snapshot/);
    expect(snapshotSupport("snapshot", release("0.28.1"), storage, {})).toBe(
      "vcluster 0.28.1 (chart vcluster-0.28.1) cannot take snapshot requests: vcluster 0.29.0 or newer is needed",
    );
    expect(snapshotSupport("snapshot", release("0.30.0"), { url: undefined, error: undefined }, {})).toMatch(
      /no snapshot storage is configured: start the server with --snapshot-url/,
    );
    expect(
      snapshotSupport("snapshot", release("0.30.0"), { url: "ftp://x/y", error: "scheme ftp is not supported" }, {}),
    ).toBe("the configured --snapshot-url cannot be used: scheme ftp is not supported");
    expect(snapshotSupport("snapshot", release("0.30.0"), storage, {})).toBeUndefined();
  });

  it("checks a restore against the snapshot's record, and a new vcluster against what exists", () => {
    const ok = { backingStore: recorded("0.30.0") };
    expect(snapshotSupport("restore", release("0.30.0"), storage, ok)).toBeUndefined();
    expect(snapshotSupport("restore", undefined, storage, { ...ok, createNew: true })).toBeUndefined();
    expect(snapshotSupport("restore", release("0.30.0"), storage, { ...ok, createNew: true })).toMatch(
      /Helm release alpha already exists in namespace team-a/,
    );
    expect(snapshotSupport("restore", release("0.30.0"), storage, { ...ok, restoreWorkloads: true })).toMatch(
      /restore_workloads is not supported/,
    );
    expect(snapshotSupport("restore", release("0.30.0"), storage, { backingStore: { etcd: {} } })).toMatch(
      /not taken through a vcluster snapshot request/,
    );
    expect(
      snapshotSupport("restore", undefined, storage, { backingStore: recorded("0.28.0"), createNew: true }),
    ).toMatch(/vcluster 0\.28\.0 .* cannot take restores/);
  });
});
