import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Annotations, Phase, type VCluster, VClusterSchema } from "@open-vcluster/api";
import type { Store, StoreSpec } from "@open-vcluster/server";
import { PostgresServer } from "../test/postgres-server.ts";
import type { StoreKind } from "./list-pages.ts";

let postgres: Promise<PostgresServer> | undefined;
let databases = 0;

/** A store spec of `kind`: a file in `dir` for SQLite, a fresh database for PostgreSQL. */
export async function storeSpec(kind: StoreKind, dir: string): Promise<StoreSpec> {
  if (kind === "memory") return "memory";
  if (kind === "sqlite") return `sqlite:${dir}/bench.db`;
  // One real PostgreSQL server (started on first use, on a loopback port) for the whole run.
  postgres ??= PostgresServer.start();
  return (await postgres).createDatabase(`bench_${++databases}`) as StoreSpec;
}

export async function stopPostgres(): Promise<void> {
  if (postgres) await (await postgres).stop();
}

export const NAMESPACES = 50;
/** One vcluster in a hundred carries this label, so the selector matches ~1%. */
export const RARE_SELECTOR = "tier=gold";
export const rareLabels = Object.assign((labels: Record<string, string>) => labels.tier === "gold", {
  // What the selector tests, so that SQL stores evaluate it in the database (as the RPC does).
  requirements: [{ key: "tier", operator: "=" as const, values: ["gold"] }],
});

const BASE_TIME_MS = Date.UTC(2025, 0, 1);

export function namespaceOf(i: number): string {
  return `team-${String(i % NAMESPACES).padStart(2, "0")}`;
}

/** A vcluster as the server would have stored it once running: full spec, status and labels. */
export function benchVCluster(i: number): VCluster {
  const namespace = namespaceOf(i);
  // Names do not follow insertion order, so "name" order and create-time order differ.
  const name = `vc-${((i * 7919) % 1_000_003).toString(36)}-${i.toString(36)}`;
  const created = timestampFromMs(BASE_TIME_MS + i * 1000);
  return create(VClusterSchema, {
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    name,
    namespace,
    owner: `user-${i % 37}`,
    project: `project-${i % 11}`,
    labels: {
      app: `service-${i % 250}`,
      env: ["dev", "staging", "prod"][i % 3] ?? "dev",
      tier: i % 100 === 0 ? "gold" : "standard",
      "open-vcluster.io/project": `project-${i % 11}`,
    },
    annotations: { [Annotations.generation]: "1", [Annotations.operationId]: `op-${i}` },
    createTime: created,
    updateTime: created,
    spec: {
      kubernetesVersion: "1.34.2",
      distro: "k8s",
      replicas: 1,
      resources: {
        cpuRequest: "200m",
        cpuLimit: "2",
        memoryRequest: "256Mi",
        memoryLimit: "4Gi",
        ephemeralStorageRequest: "1Gi",
        ephemeralStorageLimit: "10Gi",
      },
      storage: { enablePersistence: true, persistenceSize: "5Gi", defaultStorageClass: "standard" },
      sync: { syncNodes: false, syncIngresses: true, customResources: ["certificates.cert-manager.io"] },
      helmValues: "controlPlane:\n  statefulSet:\n    resources:\n      limits:\n        memory: 4Gi\n",
    },
    status: {
      phase: Phase.RUNNING,
      message: "vcluster is running",
      reason: "Running",
      apiServerEndpoint: `https://${name}.${namespace}.vcluster.local:443`,
      readyReplicas: 1,
      totalReplicas: 1,
      observedGeneration: 1n,
      readyTime: created,
      currentUsage: { cpuUsage: "120m", memoryUsage: "512Mi", storageUsage: "1Gi", podCount: 12 },
      helmRelease: { name, chartVersion: "0.30.1", appVersion: "0.30.1", status: "deployed", revision: 1 },
      conditions: ["Ready", "ControlPlaneReady", "Synced"].map((type) => ({
        type,
        status: "True",
        reason: type,
        message: `${type} since creation`,
        lastTransitionTime: created,
      })),
    },
  });
}

/** Writes vclusters [from, to) in transactions of a few thousand, as a bulk import would. */
export async function seed(store: Store, from: number, to: number): Promise<void> {
  const batch = 5000;
  for (let start = from; start < to; start += batch) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(to, start + batch); i++) await tx.putVCluster(benchVCluster(i));
    });
  }
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), "vcluster-bench-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
