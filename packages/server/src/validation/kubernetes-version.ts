import { quote } from "./field-violation.js";
export const DEFAULT_KUBERNETES_VERSION = "1.34.2";
export const SUPPORTED_KUBERNETES_MINORS: readonly string[] = Object.freeze(["1.31", "1.32", "1.33", "1.34", "1.35"]);

export interface KubernetesVersion {
  major: number;
  minor: number;
  patch: number;
}

const VERSION = /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,4})$/;

/** Parses "MAJOR.MINOR.PATCH" with an optional leading "v"; undefined when malformed. */
export function parseKubernetesVersion(text: string): KubernetesVersion | undefined {
  const match = VERSION.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** The version without its optional "v", as the server stores it. */
export function normalizeKubernetesVersion(text: string): string {
  return parseKubernetesVersion(text) ? text.replace(/^v/, "") : text;
}

/** Problem with a requested version (malformed or unsupported minor), or undefined. */
export function kubernetesVersionProblem(text: string): string | undefined {
  const version = parseKubernetesVersion(text);
  if (!version) return `must be MAJOR.MINOR.PATCH, e.g. "${DEFAULT_KUBERNETES_VERSION}" (got ${quote(text)})`;
  const minor = `${version.major}.${version.minor}`;
  if (!SUPPORTED_KUBERNETES_MINORS.includes(minor)) {
    return `Kubernetes ${minor} is not supported; supported versions are ${SUPPORTED_KUBERNETES_MINORS[0]} to ${SUPPORTED_KUBERNETES_MINORS.at(-1)}`;
  }
  return undefined;
}

function parseOrThrow(text: string): KubernetesVersion {
  const version = parseKubernetesVersion(text);
  if (!version) throw new RangeError(`invalid Kubernetes version ${quote(text)}`);
  return version;
}

/** Negative when a < b, zero when equal, positive when a > b. Throws RangeError on malformed input. */
export function compareKubernetesVersions(a: string, b: string): number {
  const x = parseOrThrow(a);
  const y = parseOrThrow(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/**
 * Why moving a running vcluster from one version to another is refused, or undefined when allowed.
 * Like Kubernetes itself, the control plane only moves forward, one minor version at a time; patch
 * releases within a minor may go either way.
 */
export function kubernetesUpgradeProblem(from: string, to: string): string | undefined {
  const current = parseOrThrow(from);
  const target = parseOrThrow(to);
  const currentMinor = `${current.major}.${current.minor}`;
  const targetMinor = `${target.major}.${target.minor}`;
  if (current.major !== target.major) {
    return `changing the major version from ${currentMinor} to ${targetMinor} is not supported`;
  }
  if (target.minor < current.minor) {
    return `downgrading Kubernetes from ${currentMinor} to ${targetMinor} is not supported`;
  }
  if (target.minor > current.minor + 1) {
    return `upgrading Kubernetes from ${currentMinor} to ${targetMinor} skips a minor version; upgrade to ${current.major}.${current.minor + 1} first`;
  }
  return undefined;
}
