import type { Page } from "playwright-core";

const TIMEOUT_MS = 120_000;

/** The list row of one vcluster. */
export function row(page: Page, name: string) {
  return page.locator(`[data-testid="vcluster-row"][data-name="${name}"]`);
}

/** Waits until the element's phase badge reads `phase` (e.g. "Running"). */
export async function waitForPhase(page: Page, scope: string, phase: string): Promise<void> {
  await page.locator(`${scope} [data-phase="${phase}"]`).first().waitFor({ timeout: TIMEOUT_MS });
}

/** Waits until the watch stream indicator says the page follows the server ("connected"). */
export async function waitForLive(page: Page): Promise<void> {
  await page.locator('[data-status="connected"]').waitFor({ timeout: TIMEOUT_MS });
}

/**
 * Records, inside the page, every phase each row shows, so short-lived phases are seen even
 * when they pass between two checks of the test.
 */
export async function recordPhases(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    const scan = () => {
      for (const element of document.querySelectorAll<HTMLElement>('[data-testid="vcluster-row"]')) {
        const name = element.dataset.name ?? "";
        const phase = element.querySelector<HTMLElement>("[data-phase]")?.dataset.phase ?? "";
        const phases = seen[name] ?? [];
        if (phases.at(-1) !== phase) phases.push(phase);
        seen[name] = phases;
      }
    };
    scan();
    new MutationObserver(scan).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    Object.assign(window, { recordedPhases: seen });
  });
}

export async function recordedPhases(page: Page, name: string): Promise<string[]> {
  return page.evaluate(
    (n) => (window as unknown as { recordedPhases: Record<string, string[]> }).recordedPhases[n] ?? [],
    name,
  );
}

/** Waits until the row recorder has seen `name` in `phase`, however briefly it lasted. */
export async function waitForRecordedRowPhase(page: Page, name: string, phase: string): Promise<void> {
  await page.waitForFunction(
    ([n, wanted]) =>
      ((window as unknown as { recordedPhases: Record<string, string[]> }).recordedPhases[n ?? ""] ?? []).includes(
        wanted ?? "",
      ),
    [name, phase],
    { timeout: TIMEOUT_MS },
  );
}

/** Marks the loaded document; the mark survives only as long as the page is not reloaded. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => Object.assign(window, { notReloaded: true }));
}

export async function wasReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded !== true);
}

/**
 * Records, inside the page, every phase the detail view's heading shows, so a short UPDATING is
 * seen even when it passes between two checks of the test. Calling it again starts afresh.
 */
export async function recordHeadingPhases(page: Page): Promise<void> {
  await page.evaluate(() => {
    const state = window as unknown as { headingPhases: string[]; headingObserver?: MutationObserver };
    state.headingObserver?.disconnect();
    const seen: string[] = [];
    // The phases during which the detail view's Edit button was disabled: recorded with the phase
    // in the same DOM snapshot, since a short phase may be over before a test could look again.
    const editDisabled: string[] = [];
    const scan = () => {
      const phase = document.querySelector<HTMLElement>("h1 [data-phase]")?.dataset.phase ?? "";
      if (phase !== "" && seen.at(-1) !== phase) seen.push(phase);
      const edit = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Edit");
      if (phase !== "" && edit?.disabled && !editDisabled.includes(phase)) editDisabled.push(phase);
    };
    scan();
    const observer = new MutationObserver(scan);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    Object.assign(window, { headingPhases: seen, headingEditDisabled: editDisabled, headingObserver: observer });
  });
}

export async function recordedHeadingPhases(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { headingPhases?: string[] }).headingPhases ?? []);
}

/** Phases recorded (since recordHeadingPhases) while the Edit button was disabled. */
export async function recordedEditDisabledPhases(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { headingEditDisabled?: string[] }).headingEditDisabled ?? []);
}

/** Waits until the recorder has seen the heading show `phase`, however briefly. */
export async function waitForRecordedPhase(page: Page, phase: string): Promise<void> {
  await page.waitForFunction(
    (wanted) => ((window as unknown as { headingPhases?: string[] }).headingPhases ?? []).includes(wanted),
    phase,
    { timeout: TIMEOUT_MS },
  );
}
