import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import type { ProviderFaults } from "./faults.js";
import {
  type OperationKind,
  type Provider,
  ProviderError,
  type ProviderHelmRelease,
  type ProviderOperation,
  type ProviderResult,
} from "./types.js";

/** The vcluster chart version the simulated provider pretends to install. */
export const CHART_VERSION = "0.30.1";

import { simulatedUsage, suspendedUsage } from "./usage.js";

/** Typical durations of the real operations (Helm install ≈ pods scheduling + etcd/sqlite start). */
export const DEFAULT_DURATIONS_MS: Record<OperationKind, number> = {
  create: 3000,
  update: 1500,
  scale: 1500,
  suspend: 1000,
  resume: 2000,
  snapshot: 1500,
  restore: 2000,
  delete: 1000,
};

export interface SimulatedProviderOptions {
  clock: Clock;
  /** Armed failures and delays (tests); without it the provider has no fault hooks at all. */
  faults?: ProviderFaults;
  /** Multiplies every duration; 0 makes operations complete on the next tick. */
  timeScale?: number;
  durationsMs?: Partial<Record<OperationKind, number>>;
}

/**
 * Moves vclusters through their lifecycle without a Kubernetes cluster: waits realistic
 * (scaled) durations on the injected clock, reports stable usage figures, captures a
 * backing-store summary for snapshots, and honours injected faults.
 */
export class SimulatedProvider implements Provider {
  readonly name = "simulated";
  readonly endpointsSimulated = true;
  private readonly durations: Record<OperationKind, number>;
  private readonly timeScale: number;

  constructor(private readonly options: SimulatedProviderOptions) {
    this.durations = { ...DEFAULT_DURATIONS_MS, ...options.durationsMs };
    this.timeScale = Math.max(0, options.timeScale ?? 1);
  }

  async run(op: ProviderOperation): Promise<ProviderResult> {
    const fault = this.options.faults?.take(op.kind);
    let duration = this.durations[op.kind];
    if (op.kind === "delete") duration += (op.gracePeriodSeconds ?? 0) * 1000;
    if (op.kind === "suspend" && op.drainWorkloads) duration += Math.min(op.drainTimeoutSeconds || 30, 30) * 100;
    let wait = duration * this.timeScale;
    if (fault?.mode === "slow") wait += fault.delayMs ?? 60_000;
    await this.options.clock.sleep(wait, op.signal);
    if (fault?.mode === "fail") {
      throw new ProviderError(fault.message ?? `simulated ${op.kind} failure`, op.kind);
    }
    const usage = simulatedUsage(op.vcluster);
    switch (op.kind) {
      case "suspend":
        return { usage: suspendedUsage(usage) };
      case "delete":
        return {};
      case "snapshot":
        return { usage, backingStore: this.captureBackingStore(op) };
      default:
        return { usage, helmRelease: this.release(op), readyReplicas: op.vcluster.spec?.replicas || 1 };
    }
  }

  /** The release a Helm install (revision 1) or upgrade (next revision) of the chart would leave. */
  private release(op: ProviderOperation): ProviderHelmRelease {
    const previous = op.vcluster.status?.helmRelease?.revision || 1;
    const upgraded = op.kind === "update" || op.kind === "scale" || op.kind === "restore";
    return {
      chartVersion: CHART_VERSION,
      appVersion: CHART_VERSION,
      revision: upgraded ? previous + 1 : previous,
      status: "deployed",
    };
  }

  private captureBackingStore(op: ProviderOperation): Record<string, unknown> {
    const spec = op.vcluster.spec;
    const etcd = /etcd/.test(spec?.helmValues ?? "");
    const objects = 40 + (simulatedUsage(op.vcluster).podCount ?? 0) * 3;
    return {
      kind: etcd ? "etcd" : "sqlite",
      objectCount: objects,
      workloadsIncluded: op.includeWorkloads ?? false,
      // A digest of what was captured, so restores can be checked against it.
      checksum: createHash("sha256")
        .update(`${op.vcluster.id}:${op.vcluster.annotations["vcluster.open-vcluster.io/generation"] ?? ""}`)
        .digest("hex"),
    };
  }
}
