import type { TestProject } from "vitest/node";
// The project's own script finds Chromium, or installs Debian's package when there is none.
import { ensureChromium } from "../../../../scripts/ensure-chromium.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    chromiumPath: string;
  }
}

/** Vitest global setup: obtains Chromium once, before any suite; without one the run fails. */
export default function requireChromium(project: TestProject): void {
  project.provide("chromiumPath", ensureChromium());
}
