import type { TestProject } from "vitest/node";
// The project's own script builds helm from its pinned module (cached outside the checkout).
import { ensureGoTool } from "../../scripts/go-tool.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    helm: string;
  }
}

/** Vitest global setup: HELM names a helm to use; otherwise the pinned one is built once. */
export default function provideHelm(project: TestProject): void {
  project.provide("helm", process.env.HELM || ensureGoTool("helm"));
}
