import type { Snapshot, VCluster } from "@open-vcluster/api";
import type { VClusterApiClient, VClusterRef } from "@open-vcluster/core";
import type { OutputStream } from "../io.js";
import { snapshotStatusText } from "../output/snapshot-columns.js";
import { phaseText } from "../output/vcluster-columns.js";
import { TransitionProgress } from "./progress.js";

export type VClusterGoal = "running" | "suspended" | "deleted";

export interface WaitSettings {
  timeoutMs: number;
  /** Replaces the status message as the detail of the progress line, re-read every second (a countdown). */
  ticker?: (now: Date) => string;
  /** Where progress goes: stderr, so stdout stays parseable. */
  progress: OutputStream;
  signal?: AbortSignal;
}

function refText(ref: VClusterRef): string {
  return `vcluster ${ref.namespace || "default"}/${ref.name}`;
}

/** Waits with the SDK's watch-driven waiters, reporting every phase the vcluster passes through. */
export async function waitForVCluster(
  client: VClusterApiClient,
  ref: VClusterRef,
  goal: VClusterGoal,
  settings: WaitSettings,
  initial?: VCluster,
): Promise<VCluster | undefined> {
  const progress = new TransitionProgress(settings.progress, refText(ref));
  const { ticker } = settings;
  let phase = "";
  const detail = (vcluster: VCluster) => (ticker ? ticker(new Date()) : (vcluster.status?.message ?? ""));
  const report = (vcluster: VCluster) => {
    phase = phaseText(vcluster);
    progress.observe(phase, detail(vcluster));
  };
  if (initial) report(initial);
  // Display only: a terminal line that counts down; off a terminal repeats of a phase are not printed.
  const tick =
    ticker && settings.progress.isTTY
      ? setInterval(() => progress.observe(phase, ticker(new Date())), 1000)
      : undefined;
  tick?.unref?.();
  const options = {
    timeoutMs: settings.timeoutMs,
    onProgress: report,
    // The mutation's response: the wait then counts only the outcome of the operation it started.
    ...(initial ? { after: initial } : {}),
    ...(settings.signal ? { signal: settings.signal } : {}),
  };
  try {
    if (goal === "running") return await client.waitUntilRunning(ref, options);
    if (goal === "suspended") return await client.waitUntilSuspended(ref, options);
    await client.waitUntilDeleted(ref, options);
    progress.observe("Deleted");
    return undefined;
  } finally {
    if (tick) clearInterval(tick);
    progress.finish();
  }
}

export async function waitForSnapshot(
  client: VClusterApiClient,
  snapshot: Snapshot,
  settings: WaitSettings,
): Promise<Snapshot> {
  const progress = new TransitionProgress(settings.progress, `snapshot ${snapshot.namespace}/${snapshot.name}`);
  progress.observe(snapshotStatusText(snapshot));
  try {
    return await client.waitUntilSnapshotReady(snapshot.id, {
      timeoutMs: settings.timeoutMs,
      onProgress: (observed) => progress.observe(snapshotStatusText(observed)),
      ...(settings.signal ? { signal: settings.signal } : {}),
    });
  } finally {
    progress.finish();
  }
}
