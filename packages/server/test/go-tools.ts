import type { TestProject } from "vitest/node";
// The project's own script builds kubectl from its pinned module (cached outside the checkout).
import { ensureGoTool } from "../../../scripts/go-tool.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    kubectl: string;
  }
}

/** Vitest global setup: KUBECTL names a kubectl to use; otherwise the pinned one is built once. */
export default function provideGoTools(project: TestProject): void {
  project.provide("kubectl", process.env.KUBECTL || ensureGoTool("kubectl"));
}
