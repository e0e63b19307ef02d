import type { V1ConfigMap, V1Secret } from "@kubernetes/client-node";

/*
 * vcluster's asynchronous snapshot requests, in vcluster's own format (facts from the public
 * loft-sh/vcluster repository, pkg/snapshot and its snapshot API types):
 * - a Secret and a ConfigMap of the same name (`<vcluster>-snapshot-request-<random>`) in the
 *   vcluster's host namespace, both labelled vcluster.loft.sh/snapshot-request="" plus
 *   vcluster.loft.sh/vcluster-namespace and vcluster.loft.sh/vcluster-name;
 * - the Secret's key `snapshotOptions` holds the storage options as JSON (location and
 *   credentials, and the Helm release: name, namespace, chart, version, values);
 * - the ConfigMap's key `snapshotRequest` holds the request as JSON
 *   {metadata: {name, creationTimestamp}, spec: {url}, status: {phase, error: {message}}},
 *   whose status the vcluster control plane's snapshot controller moves along.
 */

export const SNAPSHOT_REQUEST_LABEL = "vcluster.loft.sh/snapshot-request";
export const VCLUSTER_NAMESPACE_LABEL = "vcluster.loft.sh/vcluster-namespace";
export const VCLUSTER_NAME_LABEL = "vcluster.loft.sh/vcluster-name";
export const REQUEST_KEY = "snapshotRequest";
export const OPTIONS_KEY = "snapshotOptions";
/** The environment variable (and options Secret key) vcluster's restore pod reads its options from. */
export const STORAGE_OPTIONS_ENV = "VCLUSTER_STORAGE_OPTIONS";
/** Ours, beside vcluster's labels: which API snapshot a request belongs to (found again after a restart). */
export const SNAPSHOT_ID_LABEL = "vcluster.open-vcluster.io/snapshot-id";

/** vcluster's request phases ("" = not started yet). */
export const RequestPhase = {
  notStarted: "",
  creatingEtcdBackup: "CreatingEtcdBackup",
  completed: "Completed",
  partiallyFailed: "PartiallyFailed",
  failed: "Failed",
  canceling: "Canceling",
  canceled: "Canceled",
  deleting: "Deleting",
  deletingEtcdBackup: "DeletingEtcdBackup",
  deleted: "Deleted",
} as const;

/** Phases after which vcluster does nothing more with a request. */
const DONE = new Set<string>([
  RequestPhase.completed,
  RequestPhase.partiallyFailed,
  RequestPhase.failed,
  RequestPhase.canceled,
  RequestPhase.deleted,
]);

export interface SnapshotRequest {
  metadata: { name: string; creationTimestamp?: string };
  spec: { url?: string };
  status: { phase?: string; error: { message?: string } };
}

export function isDone(request: SnapshotRequest): boolean {
  return DONE.has(request.status.phase ?? "");
}

/** The Helm release recorded in the options, as vcluster's CLI records it (values as YAML bytes). */
export interface RecordedRelease {
  releaseName: string;
  releaseNamespace: string;
  chartName: string;
  chartVersion: string;
  /** The release's user-supplied values as YAML. */
  values: string;
}

/** vcluster's S3 options: JSON name, and whether the URL query carries the value base64-encoded. */
const S3_FIELDS: readonly (readonly [string, "string" | "base64" | "bool"])[] = [
  ["skip-client-credentials", "bool"],
  ["access-key-id", "base64"],
  ["secret-access-key", "base64"],
  ["session-token", "base64"],
  ["region", "string"],
  ["profile", "string"],
  ["url", "base64"],
  ["public-url", "base64"],
  ["kms-key-id", "base64"],
  ["tagging", "base64"],
  ["force-path-style", "bool"],
  ["insecure-skip-tls-verify", "bool"],
  ["custom-key-encryption-file", "base64"],
  ["credentials-file", "base64"],
  ["server-side-encryption", "base64"],
  ["ca-cert", "base64"],
  ["checksum-algorithm", "string"],
];
const OCI_FIELDS: readonly (readonly [string, "string" | "base64" | "bool"])[] = [
  ["username", "string"],
  ["password", "base64"],
  ["skip-client-credentials", "bool"],
];

/** Storage options in vcluster's JSON shape (field order as vcluster writes them). */
export interface StorageOptions {
  type: "s3" | "container" | "oci";
  s3: Record<string, string | boolean>;
  container: { path?: string };
  oci: Record<string, string | boolean>;
  azure: Record<string, never>;
  file: Record<string, never>;
  release?: { releaseName: string; releaseNamespace: string; chartName: string; chartVersion: string; values: string };
}

function queryFields(
  query: URLSearchParams,
  fields: readonly (readonly [string, "string" | "base64" | "bool"])[],
  target: Record<string, string | boolean>,
): void {
  const known = new Set(fields.map(([key]) => key));
  for (const key of query.keys())
    if (!known.has(key)) throw new Error(`unknown snapshot URL option ${key} (known: ${[...known].join(", ")})`);
  for (const [key, kind] of fields) {
    const raw = query.get(key);
    if (raw === null) continue;
    if (kind === "bool") {
      if (!["true", "false", "1", "0"].includes(raw))
        throw new Error(`snapshot URL option ${key} must be true or false`);
      if (raw === "true" || raw === "1") target[key] = true;
    } else if (kind === "base64") {
      const decoded = Buffer.from(raw.replaceAll(" ", "+").trim(), "base64").toString("utf8").trim();
      if (!decoded) throw new Error(`snapshot URL option ${key} must be base64-encoded`);
      target[key] = decoded;
    } else target[key] = raw.trim();
  }
}

/**
 * Parses a snapshot storage URL as vcluster does: `container:///path`, `s3://bucket/key` (options
 * as query parameters, credentials base64-encoded) or `oci://registry/repo[:tag]` (credentials
 * as user:password). Throws saying what is wrong.
 */
export function parseStorageUrl(raw: string): StorageOptions {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`snapshot URL ${JSON.stringify(raw)} is not a URL`);
  }
  const base = { s3: {}, container: {}, oci: {}, azure: {}, file: {} } as Omit<StorageOptions, "type">;
  switch (url.protocol) {
    case "container:": {
      if (url.host) throw new Error("relative paths are not supported for container snapshots: use container:///PATH");
      if (!url.pathname || url.pathname === "/") throw new Error("the container snapshot URL has no path");
      return { type: "container", ...base, container: { path: decodeURIComponent(url.pathname) } };
    }
    case "s3:": {
      if (!url.host) throw new Error("the bucket is missing from the snapshot URL, expected s3://BUCKET/KEY");
      const key = decodeURIComponent(url.pathname.replace(/^\//, ""));
      if (!key) throw new Error("the key is missing from the snapshot URL, expected s3://BUCKET/KEY");
      const s3: Record<string, string | boolean> = { bucket: url.host, key };
      queryFields(url.searchParams, S3_FIELDS, s3);
      return { type: "s3", ...base, s3 };
    }
    case "oci:": {
      if (!url.host || !url.pathname || url.pathname === "/")
        throw new Error("unexpected snapshot URL format, need oci://my-registry.com/my-repo");
      const oci: Record<string, string | boolean> = { repository: `${url.host}${url.pathname}` };
      if (url.username) oci.username = decodeURIComponent(url.username);
      if (url.password) oci.password = decodeURIComponent(url.password);
      queryFields(url.searchParams, OCI_FIELDS, oci);
      return { type: "oci", ...base, oci };
    }
    default:
      throw new Error(
        `snapshot URL scheme ${url.protocol.replace(/:$/, "")} is not supported: use oci, s3 or container`,
      );
  }
}

/** The credential-free URL vcluster puts into the request (its Options.GetURL). */
export function requestUrl(options: StorageOptions): string {
  switch (options.type) {
    case "s3":
      return `s3://${String(options.s3.bucket)}/${String(options.s3.key)}`;
    case "container":
      return `container://${options.container.path ?? ""}`;
    case "oci":
      return `oci://${String(options.oci.repository)}`;
  }
}

/**
 * The storage options for one snapshot under the configured base URL: its own file below a
 * container path or S3 key prefix, its own tag in an OCI repository.
 */
export function optionsForSnapshot(
  base: StorageOptions,
  at: { namespace: string; name: string; snapshotId: string },
): StorageOptions {
  const file = `${at.namespace}/${at.name}-${at.snapshotId}.tar.gz`;
  const join = (prefix: string) => `${prefix.replace(/\/+$/, "")}/${file}`;
  switch (base.type) {
    case "container":
      return { ...base, container: { path: join(base.container.path ?? "") } };
    case "s3":
      return { ...base, s3: { ...base.s3, key: join(String(base.s3.key)) } };
    case "oci": {
      // A repository given with a tag keeps its name; each snapshot gets its own tag.
      const repository = String(base.oci.repository).replace(/:[^/:]*$/, "");
      return { ...base, oci: { ...base.oci, repository: `${repository}:${at.name}-${at.snapshotId}` } };
    }
  }
}

export function withRelease(options: StorageOptions, release: RecordedRelease): StorageOptions {
  return {
    ...options,
    // Go marshals []byte as base64.
    release: { ...release, values: Buffer.from(release.values, "utf8").toString("base64") },
  };
}

export function optionsJson(options: StorageOptions): string {
  const { type, s3, container, oci, azure, file, release } = options;
  return JSON.stringify({ type, s3, container, oci, azure, file, ...(release ? { release } : {}) });
}

/** RFC 3339 in seconds, as Kubernetes' metav1.Time marshals. */
export function kubeTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function requestJson(request: SnapshotRequest): string {
  const status: SnapshotRequest["status"] = {
    ...(request.status.phase ? { phase: request.status.phase } : {}),
    error: request.status.error.message ? { message: request.status.error.message } : {},
  };
  return JSON.stringify({ metadata: request.metadata, spec: request.spec, status });
}

export function requestLabels(namespace: string, name: string, snapshotId: string): Record<string, string> {
  return {
    [VCLUSTER_NAMESPACE_LABEL]: namespace,
    [VCLUSTER_NAME_LABEL]: name,
    [SNAPSHOT_REQUEST_LABEL]: "",
    [SNAPSHOT_ID_LABEL]: snapshotId,
  };
}

/** The options Secret, created first; its generated name names the request too. */
export function optionsSecret(
  at: { namespace: string; name: string; snapshotId: string },
  options: StorageOptions,
  purpose: "create" | "delete",
): V1Secret {
  return {
    metadata: {
      generateName: purpose === "create" ? `${at.name}-snapshot-request-` : `${at.name}-snapshot-request-delete-`,
      namespace: at.namespace,
      labels: requestLabels(at.namespace, at.name, at.snapshotId),
    },
    data: { [OPTIONS_KEY]: Buffer.from(optionsJson(options), "utf8").toString("base64") },
  };
}

export function requestConfigMap(
  at: { namespace: string; name: string; snapshotId: string },
  request: SnapshotRequest,
): V1ConfigMap {
  return {
    metadata: {
      name: request.metadata.name,
      namespace: at.namespace,
      labels: requestLabels(at.namespace, at.name, at.snapshotId),
    },
    data: { [REQUEST_KEY]: requestJson(request) },
  };
}

/** The request a ConfigMap holds; throws when it is not one. */
export function readRequest(configMap: V1ConfigMap): SnapshotRequest {
  const raw = configMap.data?.[REQUEST_KEY];
  if (raw === undefined)
    throw new Error(`ConfigMap ${configMap.metadata?.namespace}/${configMap.metadata?.name} has no key ${REQUEST_KEY}`);
  const parsed = JSON.parse(raw) as Partial<SnapshotRequest>;
  return {
    metadata: { name: parsed.metadata?.name ?? configMap.metadata?.name ?? "", ...parsed.metadata },
    spec: parsed.spec ?? {},
    status: { ...parsed.status, error: parsed.status?.error ?? {} },
  };
}
