import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

const SCREENSHOTS = fileURLToPath(new URL("../../screenshots/", import.meta.url));

/** Saves what the user sees, for people to review the console's looks after a run. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  // Modal backdrops cover the viewport only, so dialogs are captured as the viewport shows them.
  await page.screenshot({ path, fullPage });
  return path;
}
