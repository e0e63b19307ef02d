import type { TestProject } from "vitest/node";
// The project's own script builds kubectl with the rest of tools/kube (cached outside the checkout).
import { ensureKubeTool } from "../../../scripts/kube-tools.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    kubectl: string;
  }
}

/** Vitest global setup: KUBECTL names a kubectl to use; otherwise the pinned one is built once. */
export default function provideGoTools(project: TestProject): void {
  project.provide("kubectl", process.env.KUBECTL || ensureKubeTool("kubectl"));
}
