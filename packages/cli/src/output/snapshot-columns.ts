import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Snapshot, SnapshotStatus } from "@open-vcluster/api";
import { age, humanBytes, labelsText, titleCase } from "./humanize.js";
import type { Column } from "./table.js";

export function snapshotStatusText(snapshot: Snapshot): string {
  return titleCase(SnapshotStatus[snapshot.status]);
}

export function snapshotColumns(showNamespace: boolean): Column<Snapshot>[] {
  const columns: Column<Snapshot>[] = [
    { header: "NAME", value: (s) => s.name },
    { header: "VCLUSTER", value: (s) => s.vclusterName },
    { header: "STATUS", value: snapshotStatusText },
    { header: "SIZE", value: (s) => humanBytes(s.sizeBytes) },
    { header: "AGE", value: (s, now) => age(s.createTime, now) },
    {
      header: "EXPIRES",
      wide: true,
      value: (s) => (s.expireTime ? timestampDate(s.expireTime).toISOString() : "never"),
    },
    { header: "ID", wide: true, value: (s) => s.id },
    { header: "LABELS", wide: true, value: (s) => labelsText(s.labels) },
    { header: "STORAGE", wide: true, value: (s) => s.storageUri || "-" },
  ];
  return showNamespace ? [{ header: "NAMESPACE", value: (s) => s.namespace }, ...columns] : columns;
}
