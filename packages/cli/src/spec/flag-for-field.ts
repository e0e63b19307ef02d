import { specFlagFor } from "./spec-flags.js";

// Request fields outside the spec whose flag is not simply the field's name in kebab case.
const REQUEST_FLAGS: Record<string, string> = {
  name: "NAME",
  namespace: "-n/--namespace",
  labels: "--label",
  label_selector: "-l/--selector",
  phases: "--phase",
  page_size: "--page-size",
  order_by: "--order-by",
  grace_period_seconds: "--grace-period",
  drain_timeout_seconds: "--drain-timeout",
  drain_workloads: "--drain-workloads",
  create_snapshot: "--create-snapshot",
  snapshot_name: "--snapshot-name",
  retention_hours: "--retention",
  validity_hours: "--validity",
  new_name: "--new-name",
  new_namespace: "--new-namespace",
  snapshot_id: "--snapshot",
  resource_version: "--resource-version",
  format: "--format",
};

/** The flag a user sets to change a request field, so errors point at what to type. */
export function flagForField(field: string): string | undefined {
  if (field.startsWith("spec.")) return specFlagFor(field);
  const top = field.replace(/\[.*$/, "").split(".")[0] ?? "";
  if (top.startsWith("resources") || top === "replicas") return specFlagFor(`spec.${field}`);
  return REQUEST_FLAGS[top];
}
