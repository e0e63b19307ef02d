import type { TestProject } from "vitest/node";
// The project's own script builds helm with the rest of tools/kube (cached outside the checkout).
import { ensureKubeTool } from "../../scripts/kube-tools.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    helm: string;
  }
}

/** Vitest global setup: HELM names a helm to use; otherwise the pinned one is built once. */
export default function provideHelm(project: TestProject): void {
  project.provide("helm", process.env.HELM || ensureKubeTool("helm"));
}
