import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { HelmReleaseInfoSchema, Phase, Phases, ResourceUsageSchema, type VCluster } from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import type { Observation, ObservationTarget } from "../provider/index.js";
import { type Store, VersionConflictError } from "../store/index.js";
import { PAUSED, PAUSED_DATE, PAUSED_REPLICAS, resourceVersionOf } from "./annotations.js";
import { setCondition, setLifecycleConditions } from "./conditions.js";
import { editable } from "./lifecycle.js";

/** Phases an observation may overwrite: the settled ones (the contract's). Transitional phases belong to their operation. */
const SETTLED = Phases.settled;

/** What of a status an observation decides; a write happens only when this changes. */
function fingerprint(vcluster: VCluster): string {
  const s = vcluster.status;
  const u = s?.currentUsage;
  const h = s?.helmRelease;
  return JSON.stringify([
    s?.phase,
    s?.reason,
    s?.message,
    s?.readyReplicas,
    s?.totalReplicas,
    s?.apiServerEndpoint,
    h?.chartVersion,
    h?.appVersion,
    h?.revision,
    h?.status,
    u?.cpuUsage,
    u?.memoryUsage,
    u?.podCount,
    vcluster.annotations[PAUSED],
    s?.conditions.map((c) => [c.type, c.status, c.reason]),
  ]);
}

/** Folds what the provider saw on the host into one vcluster; false when nothing changed. */
export function applyObservation(vcluster: VCluster, seen: Observation, now: Date): boolean {
  const before = fingerprint(vcluster);
  const status = vcluster.status;
  if (!status) return false;
  if (seen.helmRelease) {
    status.helmRelease = create(HelmReleaseInfoSchema, { name: vcluster.name, ...seen.helmRelease });
  }
  if (seen.endpoint) status.apiServerEndpoint = seen.endpoint;
  if (seen.usage) status.currentUsage = create(ResourceUsageSchema, seen.usage);
  if (seen.usageSource) {
    const fromMetrics = seen.usageSource === "metrics";
    setCondition(
      status,
      "UsageFromMetrics",
      fromMetrics ? "True" : "False",
      fromMetrics ? "MetricsAPI" : "PodRequests",
      fromMetrics
        ? "usage is measured by the host's metrics API"
        : "the host serves no metrics API: usage is the sum of the pods' resource requests",
      now,
    );
  }
  status.readyReplicas = seen.readyReplicas;
  switch (seen.state) {
    case "running": {
      if (status.phase !== Phase.RUNNING || status.reason !== "Running") status.readyTime = timestampFromDate(now);
      status.phase = Phase.RUNNING;
      status.reason = seen.reason;
      status.message = seen.message;
      status.totalReplicas = seen.totalReplicas;
      setLifecycleConditions(
        status,
        { ready: "True", controlPlane: "True", suspended: "False" },
        seen.reason,
        seen.message,
        now,
      );
      delete vcluster.annotations[PAUSED];
      delete vcluster.annotations[PAUSED_REPLICAS];
      delete vcluster.annotations[PAUSED_DATE];
      break;
    }
    case "starting": {
      // Not ready (yet or any more). An ERROR stays until the vcluster is running again.
      if (status.phase === Phase.RUNNING) {
        status.reason = seen.reason;
        status.message = seen.message;
        status.totalReplicas = seen.totalReplicas;
        setLifecycleConditions(
          status,
          { ready: "False", controlPlane: seen.readyReplicas > 0 ? "True" : "False", suspended: "False" },
          seen.reason,
          seen.message,
          now,
        );
      }
      break;
    }
    case "suspended": {
      status.phase = Phase.SUSPENDED;
      status.reason = seen.reason;
      status.message = seen.message;
      if (seen.totalReplicas) status.totalReplicas = seen.totalReplicas;
      vcluster.annotations[PAUSED] = "true";
      if (seen.totalReplicas) vcluster.annotations[PAUSED_REPLICAS] = String(seen.totalReplicas);
      vcluster.annotations[PAUSED_DATE] ??= now.toISOString();
      setLifecycleConditions(
        status,
        { ready: "False", controlPlane: "False", suspended: "True" },
        seen.reason,
        seen.message,
        now,
      );
      break;
    }
    case "failed":
    case "unreachable": {
      status.phase = Phase.ERROR;
      status.reason = seen.state === "unreachable" ? "ProviderUnreachable" : seen.reason;
      status.message = seen.message;
      setLifecycleConditions(
        status,
        {
          ready: "False",
          controlPlane: seen.readyReplicas > 0 ? "True" : "False",
          suspended: vcluster.annotations[PAUSED] === "true" ? "True" : "False",
        },
        status.reason,
        seen.message,
        now,
      );
      break;
    }
  }
  const changed = fingerprint(vcluster) !== before;
  if (changed) vcluster.updateTime = timestampFromDate(now);
  return changed;
}

/** The service's side of a provider's observing: the stored vclusters and where findings go. */
export function observationTarget(store: Store, clock: Clock): ObservationTarget {
  return {
    async tracked() {
      const out: { namespace: string; name: string }[] = [];
      let after: Parameters<Store["listVClusters"]>[2];
      for (;;) {
        const page = await store.listVClusters({}, "name", after, 500);
        for (const v of page.items) out.push({ namespace: v.namespace, name: v.name });
        const last = page.items.at(-1);
        if (!page.hasMore || !last) return out;
        after = { namespace: last.namespace, name: last.name, createTimeMs: 0, id: last.id };
      }
    },
    async version(namespace, name) {
      const stored = await store.getVCluster(namespace, name);
      return stored ? String(resourceVersionOf(stored)) : undefined;
    },
    async apply(seen, version) {
      try {
        return await store.transaction(async (tx) => {
          const stored = await tx.getVCluster(seen.namespace, seen.name);
          if (!stored) return true;
          const storedVersion = resourceVersionOf(stored);
          if (String(storedVersion) !== version) return false;
          // A running operation owns the status until it commits its own outcome.
          if ((await tx.getOperation(stored.id)) || !SETTLED.has(stored.status?.phase ?? Phase.UNSPECIFIED))
            return true;
          const vcluster = editable(stored);
          if (applyObservation(vcluster, seen, clock.now())) await tx.putVCluster(vcluster, storedVersion);
          return true;
        });
      } catch (error) {
        // Another replica or an operation wrote first: the observation may be stale, look again.
        if (error instanceof VersionConflictError) return false;
        throw error;
      }
    },
  };
}
