import type { VCluster } from "@open-vcluster/api";

/** The settings a platform engineer checks first, as a definition list. */
export function SpecView(props: { vcluster: VCluster }) {
  const spec = props.vcluster.spec;
  const resources = spec?.resources;
  const pair = (request = "", limit = "") => `${request || "—"} / ${limit || "—"}`;
  const rows: [string, string][] = [
    ["Kubernetes version", spec?.kubernetesVersion || "—"],
    ["Distro", spec?.distro || "—"],
    ["Replicas", String(spec?.replicas ?? "—") + (spec?.enableHa ? " (HA)" : "")],
    ["CPU request / limit", pair(resources?.cpuRequest, resources?.cpuLimit)],
    ["Memory request / limit", pair(resources?.memoryRequest, resources?.memoryLimit)],
    ["Ephemeral storage request / limit", pair(resources?.ephemeralStorageRequest, resources?.ephemeralStorageLimit)],
    [
      "Persistence",
      spec?.storage?.enablePersistence ? `enabled, ${spec.storage.persistenceSize || "default size"}` : "disabled",
    ],
    ["Pod / service CIDR", `${spec?.network?.podCidr || "—"} / ${spec?.network?.serviceCidr || "—"}`],
    ["Isolation", spec?.isolationMode || "none"],
    ["Ingress", spec?.ingress?.enabled ? spec.ingress.hostname || "enabled" : "disabled"],
  ];
  return (
    <dl class="definition-list">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
