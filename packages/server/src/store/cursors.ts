import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Snapshot, VCluster } from "@open-vcluster/api";
import type { SnapshotCursor, VClusterCursor, VClusterOrder } from "./types.js";

/**
 * Both stores order by whole milliseconds (the precision of the SQLite columns), so that
 * they page identically; sub-millisecond differences fall through to the id tie-break.
 */
export function timestampToMs(timestamp: Timestamp | undefined): number {
  return timestamp === undefined ? 0 : Math.floor(timestampMs(timestamp));
}

/** The cursor that continues a listing after `vcluster`, whatever the order. */
export function vclusterCursor(vcluster: VCluster): VClusterCursor {
  return {
    namespace: vcluster.namespace,
    name: vcluster.name,
    createTimeMs: timestampToMs(vcluster.createTime),
    id: vcluster.id,
  };
}

/** The cursor that continues a snapshot listing after `snapshot`. */
export function snapshotCursor(snapshot: Snapshot): SnapshotCursor {
  return { createTimeMs: timestampToMs(snapshot.createTime), id: snapshot.id };
}

// Plain code-unit comparison. It equals SQLite's BINARY collation (byte order of UTF-8) for
// the ASCII names and ids the API admits, which keeps both stores' orders identical.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sort order of two vcluster keys under `order`; negative when a comes first. */
export function compareVClusterKeys(order: VClusterOrder, a: VClusterCursor, b: VClusterCursor): number {
  switch (order) {
    case "name":
      return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name);
    case "create_time":
      return a.createTimeMs - b.createTimeMs || compareStrings(a.id, b.id);
    case "-create_time":
      return b.createTimeMs - a.createTimeMs || compareStrings(b.id, a.id);
  }
}

/** Newest first; negative when a comes first. */
export function compareSnapshotKeys(a: SnapshotCursor, b: SnapshotCursor): number {
  return b.createTimeMs - a.createTimeMs || compareStrings(b.id, a.id);
}
