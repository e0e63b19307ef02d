import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import {
  markDocument,
  recordedPhases,
  recordPhases,
  row,
  waitForLive,
  waitForPhase,
  waitForRecordedRowPhase,
  wasReloaded,
} from "./support/console-page.js";
import { useConsoleSuite } from "./support/console-suite.js";
import { screenshot } from "./support/screenshots.js";

let page: Page;
const suite = useConsoleSuite({ timeScale: 0.5 });

beforeEach(async () => {
  await page?.close();
  page = await suite.browser.context.newPage();
  await page.goto(suite.stack.url);
  await waitForLive(page);
  await markDocument(page);
});

async function createThroughForm(fields: { name: string; namespace?: string; labels?: string; replicas?: string }) {
  await page.getByRole("button", { name: "Create vcluster" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.locator('input[name="name"]').fill(fields.name);
  if (fields.namespace !== undefined) await dialog.locator('input[name="namespace"]').fill(fields.namespace);
  if (fields.labels !== undefined) await dialog.locator('textarea[name="labels"]').fill(fields.labels);
  if (fields.replicas !== undefined) await dialog.locator('input[name="replicas"]').fill(fields.replicas);
  return dialog;
}

describe("the web console", () => {
  it("creates a vcluster through the form and follows it from Creating to Running without a reload", async () => {
    await page.locator(".empty", { hasText: "No vclusters yet" }).waitFor();
    await screenshot(page, "01-empty-list");
    await recordPhases(page);

    const dialog = await createThroughForm({ name: "web-dev", namespace: "team-a", labels: "env=dev, team=platform" });
    await screenshot(page, "02-create-form", { fullPage: false });
    await dialog.getByRole("button", { name: "Create", exact: true }).click();

    // Creating may be over before the test looks; the recorder has seen it all the same.
    await waitForRecordedRowPhase(page, "web-dev", "Creating");
    await screenshot(page, "03-list-creating");
    await waitForPhase(page, '[data-name="web-dev"]', "Running");
    await screenshot(page, "04-list-running");

    expect(await recordedPhases(page, "web-dev")).toEqual(["Creating", "Running"]);
    await expect(row(page, "web-dev").textContent()).resolves.toContain("env=dev");
    expect(await wasReloaded(page)).toBe(false);
  });

  it("shows the server's validation message at the field it names", async () => {
    const dialog = await createThroughForm({ name: "Not_A_Valid_Name" });
    await dialog.getByRole("button", { name: "Create", exact: true }).click();

    const nameField = dialog.locator(".field-invalid", { has: page.locator('input[name="name"]') });
    await nameField.waitFor();
    const message = await nameField.locator(".field-error").textContent();
    expect(message).toMatch(/DNS-1123/);
    await expect(dialog.locator(".form-error").textContent()).resolves.toContain("field name");
    await screenshot(page, "05-create-invalid-name", { fullPage: false });

    // Fixing the name moves the complaint to the next field the server rejects.
    await dialog.locator('input[name="name"]').fill("ha-without-etcd");
    await dialog.locator('input[name="replicas"]').fill("3");
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    const replicasField = dialog.locator(".field-invalid", { has: page.locator('input[name="replicas"]') });
    await expect(replicasField.locator(".field-error").textContent()).resolves.toMatch(/etcd/);
    await expect(dialog.locator('input[name="name"]').getAttribute("aria-invalid")).resolves.toBeNull();
  });

  it("suspends with a snapshot, resumes, and downloads a kubeconfig from the detail view", async () => {
    await suite.api.vclusters.createVCluster({ name: "ops", namespace: "team-a", labels: { env: "prod" } });
    await suite.api.waitUntilRunning({ name: "ops", namespace: "team-a" }, { timeoutMs: 120_000 });
    await row(page, "ops").getByRole("link", { name: "ops" }).click();
    await page.waitForURL(/\/vclusters\/team-a\/ops$/);
    await waitForPhase(page, "h1", "Running");
    await screenshot(page, "06-detail-running");

    await page.getByRole("button", { name: "Suspend" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Take a snapshot first").check();
    await dialog.locator('input[name="snapshotName"]').fill("before-suspend");
    await screenshot(page, "07-suspend-dialog", { fullPage: false });
    await dialog.getByRole("button", { name: "Suspend", exact: true }).click();
    await waitForPhase(page, "h1", "Suspended");
    await page.locator('[data-testid="snapshot-row"]', { hasText: "before-suspend" }).waitFor();
    await screenshot(page, "08-detail-suspended");

    await page.getByRole("button", { name: "Resume" }).click();
    await waitForPhase(page, "h1", "Running");
    expect(
      (await suite.api.vclusters.getVCluster({ name: "ops", namespace: "team-a" })).vcluster?.status?.readyReplicas,
    ).toBe(1);

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download kubeconfig" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("ops.team-a.kubeconfig.yaml");
    const yaml = await readFile((await file.path()) ?? "", "utf8");
    expect(yaml).toContain("kind: Config");
    expect(yaml).toContain("https://ops.team-a.vcluster.local:443");
    expect(await wasReloaded(page)).toBe(false);
  });

  it("shows changes made by another client live, and deletes after confirmation", async () => {
    await recordPhases(page);
    await suite.api.vclusters.createVCluster({ name: "from-sdk", namespace: "team-b", labels: { source: "sdk" } });
    await row(page, "from-sdk").waitFor();
    await waitForPhase(page, '[data-name="from-sdk"]', "Running");

    await suite.api.vclusters.suspendVCluster({ name: "from-sdk", namespace: "team-b" });
    await waitForPhase(page, '[data-name="from-sdk"]', "Suspended");
    const seen = await recordedPhases(page, "from-sdk");
    // Which transitional phases a loaded machine lets the page render is not fixed (events that
    // arrive together render once); the settled ones always show, in order.
    expect(seen.filter((p) => p === "Running" || p === "Suspended")).toEqual(["Running", "Suspended"]);
    expect(seen.at(-1)).toBe("Suspended");
    await screenshot(page, "09-list-live-update");

    await row(page, "from-sdk").getByRole("link").click();
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog");
    const confirm = dialog.getByRole("button", { name: "Delete", exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input[name="gracePeriodSeconds"]').fill("1");
    await dialog.locator('input[name="confirmName"]').fill("from-sdk");
    await screenshot(page, "10-delete-confirmation", { fullPage: false });
    await confirm.click();
    await page.waitForURL(`${suite.stack.url}/`);
    await row(page, "from-sdk").waitFor({ state: "detached" });
    await expect(suite.api.vclusters.getVCluster({ name: "from-sdk", namespace: "team-b" })).rejects.toThrow(
      /not found/i,
    );
    expect(await wasReloaded(page)).toBe(false);
  });

  it("filters by namespace, phase and label selector", async () => {
    await suite.api.vclusters.createVCluster({ name: "filter-me", namespace: "team-c", labels: { env: "stage" } });
    await row(page, "filter-me").waitFor();
    await page.getByLabel("Filter by namespace").selectOption("team-c");
    await row(page, "web-dev").waitFor({ state: "detached" });
    expect(await page.locator('[data-testid="vcluster-row"]').count()).toBe(1);

    await page.getByLabel("Filter by namespace").selectOption("");
    await page.getByLabel("Filter by label selector").fill("env in (dev,prod)");
    await row(page, "filter-me").waitFor({ state: "detached" });
    expect(await row(page, "web-dev").count()).toBe(1);
    await page.getByLabel("Filter by label selector").fill("env in (");
    await page.locator(".filter .field-error").waitFor();

    await page.getByLabel("Filter by label selector").fill("");
    await page.getByLabel("Filter by phase").selectOption({ label: "Suspended" });
    await row(page, "web-dev").waitFor({ state: "detached" });
    expect(page.url()).toContain("phase=");
    await screenshot(page, "11-list-filtered");
  });

  it("keeps following the server across a restart", async () => {
    await suite.stack.stop();
    await page.locator('[data-status="reconnecting"], [data-status="connecting"]').first().waitFor();
    await screenshot(page, "12-reconnecting");
    await suite.stack.restart();
    await waitForLive(page);

    // The restarted server has the same database; a change made now must reach the open page.
    await suite.api.vclusters.createVCluster({ name: "after-restart", namespace: "team-a" });
    await row(page, "after-restart").waitFor({ timeout: 120_000 });
    expect(await row(page, "web-dev").count()).toBe(1);
    expect(await wasReloaded(page)).toBe(false);
  });
});
