import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  markDocument,
  recordedEditDisabledPhases,
  recordedHeadingPhases,
  recordHeadingPhases,
  row,
  waitForLive,
  waitForPhase,
  waitForRecordedPhase,
  wasReloaded,
} from "./support/console-page.js";
import { useConsoleSuite } from "./support/console-suite.js";
import { screenshot } from "./support/screenshots.js";

const suite = useConsoleSuite({ timeScale: 0.5 });

const target = { name: "edit-me", namespace: "team-e" };

async function openEdit(page: Page) {
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  return page.getByRole("dialog");
}

describe("editing a vcluster from the detail view", () => {
  it("changes labels at once, upgrades Kubernetes through Updating, and shows a refused downgrade", async () => {
    await suite.api.vclusters.createVCluster({
      ...target,
      labels: { env: "dev", tier: "web" },
      spec: { kubernetesVersion: "1.34.2" },
    });
    await suite.api.waitUntilRunning(target, { timeoutMs: 120_000 });

    // The list stays open in its own tab: label edits must reach it through the watch.
    const list = await suite.browser.context.newPage();
    await list.goto(suite.stack.url);
    await waitForLive(list);
    await markDocument(list);
    await expect(row(list, "edit-me").textContent()).resolves.toContain("tier=web");

    const page = await suite.browser.context.newPage();
    await page.goto(`${suite.stack.url}/vclusters/team-e/edit-me`);
    await waitForLive(page);
    await waitForPhase(page, "h1", "Running");

    // Labels: change one, remove one, add one; no operation runs for that.
    let dialog = await openEdit(page);
    const labels = dialog.locator('textarea[name="labels"]');
    await expect(labels.inputValue()).resolves.toBe("env=dev\ntier=web");
    await labels.fill("env=staging\nowner=alice");
    await recordHeadingPhases(page);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await list.locator('[data-name="edit-me"] .label-chip', { hasText: "owner=alice" }).waitFor();
    const rowText = await row(list, "edit-me").textContent();
    expect(rowText).toContain("env=staging");
    expect(rowText).not.toContain("tier=web");
    expect((await suite.api.vclusters.getVCluster(target)).vcluster?.labels).toEqual({
      env: "staging",
      owner: "alice",
    });
    expect(await recordedHeadingPhases(page)).toEqual(["Running"]);

    // Upgrade one minor version: the vcluster goes through Updating and shows the new version.
    dialog = await openEdit(page);
    const version = dialog.locator('input[name="kubernetesVersion"]');
    await expect(version.inputValue()).resolves.toBe("1.34.2");
    await version.fill("1.35.0");
    await dialog.locator('[data-testid="edit-effect"]', { hasText: "Updating" }).waitFor();
    await screenshot(page, "14-edit-dialog", { fullPage: false });
    await recordHeadingPhases(page);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    // Updating may be brief: the recorder sees it even when it is over before the test looks.
    await waitForRecordedPhase(page, "Updating");
    await waitForPhase(page, "h1", "Running");
    expect(await recordedHeadingPhases(page)).toEqual(["Running", "Updating", "Running"]);
    expect(await recordedEditDisabledPhases(page)).toContain("Updating");
    await page.locator(".card dd", { hasText: /^1\.35\.0$/ }).waitFor();
    const upgraded = (await suite.api.vclusters.getVCluster(target)).vcluster;
    expect(upgraded?.spec?.kubernetesVersion).toBe("1.35.0");
    // Only the version was named in the mask: labels and resources are as they were.
    expect(upgraded?.labels).toEqual({ env: "staging", owner: "alice" });
    expect(upgraded?.spec?.resources?.memoryLimit).toBe("4Gi");

    // A downgrade is refused by the server; its message appears at the version field.
    dialog = await openEdit(page);
    await expect(version.inputValue()).resolves.toBe("1.35.0");
    await version.fill("1.34.2");
    await dialog.getByRole("button", { name: "Save" }).click();
    const versionField = dialog.locator(".field-invalid", { has: page.locator('input[name="kubernetesVersion"]') });
    await expect(versionField.locator(".field-error").textContent()).resolves.toBe(
      "spec.kubernetes_version: downgrading Kubernetes from 1.35 to 1.34 is not supported",
    );
    const summary = dialog.locator(".form-error");
    await expect(summary.textContent()).resolves.toContain("The server refused this change.");
    await expect(summary.textContent()).resolves.toContain("FAILED_PRECONDITION");
    await screenshot(page, "15-edit-downgrade-refused", { fullPage: false });
    expect((await suite.api.vclusters.getVCluster(target)).vcluster?.spec?.kubernetesVersion).toBe("1.35.0");
    await waitForPhase(page, "h1", "Running");

    expect(await wasReloaded(list)).toBe(false);
    await page.close();
    await list.close();
  });

  it("edits only labels of a suspended vcluster", async () => {
    await suite.api.vclusters.suspendVCluster(target);
    const page = await suite.browser.context.newPage();
    await page.goto(`${suite.stack.url}/vclusters/team-e/edit-me`);
    await waitForPhase(page, "h1", "Suspended");

    const dialog = await openEdit(page);
    expect(await dialog.locator('input[name="kubernetesVersion"]').isDisabled()).toBe(true);
    expect(await dialog.locator('input[name="memoryLimit"]').isDisabled()).toBe(true);
    await dialog.locator('textarea[name="labels"]').fill("env=staging, owner=bob");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator(".label-chip", { hasText: "owner=bob" }).waitFor();
    const suspended = (await suite.api.vclusters.getVCluster(target)).vcluster;
    expect(suspended?.labels).toEqual({ env: "staging", owner: "bob" });
    expect(await page.locator("h1 [data-phase]").getAttribute("data-phase")).toBe("Suspended");
    await page.close();
  });
});
