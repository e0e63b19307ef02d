import type { VCluster } from "@open-vcluster/api";
import { formatLabelInput, parseLabelInput } from "../format/labels.js";

/** What the edit form holds; every value as typed. */
export interface EditForm {
  labels: string;
  kubernetesVersion: string;
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
}

type SpecInput = Exclude<keyof EditForm, "labels">;

/** The update_mask path of each spec input, relative to VCluster as the server expects. */
export const SPEC_PATHS: Record<SpecInput, string> = {
  kubernetesVersion: "spec.kubernetes_version",
  cpuRequest: "spec.resources.cpu_request",
  cpuLimit: "spec.resources.cpu_limit",
  memoryRequest: "spec.resources.memory_request",
  memoryLimit: "spec.resources.memory_limit",
};

export function editFormOf(vcluster: VCluster): EditForm {
  const resources = vcluster.spec?.resources;
  return {
    labels: formatLabelInput(vcluster.labels),
    kubernetesVersion: vcluster.spec?.kubernetesVersion ?? "",
    cpuRequest: resources?.cpuRequest ?? "",
    cpuLimit: resources?.cpuLimit ?? "",
    memoryRequest: resources?.memoryRequest ?? "",
    memoryLimit: resources?.memoryLimit ?? "",
  };
}

export interface EditChanges {
  /** Paths of the fields the user changed, in form order; empty when nothing changed. */
  paths: string[];
  labels: Record<string, string>;
  spec: { kubernetesVersion: string; resources: Record<Exclude<SpecInput, "kubernetesVersion">, string> };
  /** True when a spec field changed, which the server carries out as an operation (UPDATING). */
  specChanged: boolean;
}

/**
 * Compares the form with the vcluster it was opened for. Only changed fields are named in the
 * mask, so a concurrent change to another field by someone else is not overwritten.
 */
export function editChanges(original: VCluster, form: EditForm): EditChanges | { labelError: string } {
  const parsed = parseLabelInput(form.labels);
  if ("error" in parsed) return { labelError: parsed.error };
  const before = editFormOf(original);
  const value = (key: SpecInput) => form[key].trim();
  const specPaths = (Object.keys(SPEC_PATHS) as SpecInput[])
    .filter((key) => value(key) !== before[key])
    .map((key) => SPEC_PATHS[key]);
  const labelsChanged = !sameLabels(original.labels, parsed.labels);
  return {
    paths: [...(labelsChanged ? ["labels"] : []), ...specPaths],
    labels: parsed.labels,
    spec: {
      kubernetesVersion: value("kubernetesVersion"),
      resources: {
        cpuRequest: value("cpuRequest"),
        cpuLimit: value("cpuLimit"),
        memoryRequest: value("memoryRequest"),
        memoryLimit: value("memoryLimit"),
      },
    },
    specChanged: specPaths.length > 0,
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && b[key] === a[key]);
}
