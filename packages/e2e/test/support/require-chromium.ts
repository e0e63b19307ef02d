import { chromiumPath } from "./chromium.js";

/** Vitest global setup: fails the whole run, with instructions, when Chromium is missing. */
export default function requireChromium(): void {
  chromiumPath();
}
