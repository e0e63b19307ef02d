import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's package puts Chromium here; CHROMIUM_PATH points elsewhere. */
const DEFAULT_CHROMIUM = "/usr/bin/chromium";

// Quiet, deterministic runs: no GPU, no background services phoning home, no first-run UI.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    // A missing browser must fail the run: skipping would report browser behaviour as tested.
    throw new Error(
      `Chromium was not found at ${path}. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to its executable.`,
    );
  }
  return path;
}

/** A headless Chromium with a fresh profile that is removed on close. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  const profile = await mkdtemp(join(tmpdir(), "e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ARGS,
    viewport: { width: 1366, height: 860 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
