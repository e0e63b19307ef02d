import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type VCluster, type VClusterSpec, VClusterSpecSchema } from "@open-vcluster/api";

export const SNAPSHOT_FORMAT = "open-vcluster.snapshot/v1";

/** What a snapshot holds: the configuration to restore plus the captured backing-store state. */
export interface SnapshotContent {
  format: typeof SNAPSHOT_FORMAT;
  vcluster: {
    id: string;
    name: string;
    namespace: string;
    owner: string;
    project: string;
    generation: string;
    spec: JsonValue;
    labels: Record<string, string>;
    helmRevision: number;
  };
  backingStore: Record<string, unknown>;
  takenAt: string;
}

export function encodeSnapshotContent(
  vcluster: VCluster,
  backingStore: Record<string, unknown>,
  takenAt: Date,
): Uint8Array {
  const content: SnapshotContent = {
    format: SNAPSHOT_FORMAT,
    vcluster: {
      id: vcluster.id,
      name: vcluster.name,
      namespace: vcluster.namespace,
      owner: vcluster.owner,
      project: vcluster.project,
      generation: vcluster.annotations["vcluster.open-vcluster.io/generation"] ?? "",
      spec: vcluster.spec ? toJson(VClusterSpecSchema, vcluster.spec) : {},
      labels: { ...vcluster.labels },
      helmRevision: vcluster.status?.helmRelease?.revision ?? 0,
    },
    backingStore,
    takenAt: takenAt.toISOString(),
  };
  return new TextEncoder().encode(JSON.stringify(content));
}

export function decodeSnapshotContent(bytes: Uint8Array): { content: SnapshotContent; spec: VClusterSpec } {
  const content = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotContent;
  if (content.format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${String(content.format)}`);
  return { content, spec: fromJson(VClusterSpecSchema, content.vcluster.spec) };
}

export function storageUri(namespace: string, snapshotId: string): string {
  return `container:///snapshots/${namespace}/${snapshotId}.tar.gz`;
}
