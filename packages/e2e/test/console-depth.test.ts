import { create, toBinary } from "@bufbuild/protobuf";
import { ErrorDetailSchema } from "@open-vcluster/api";
import type { Page } from "playwright-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { markDocument, row, waitForLive, waitForPhase, wasReloaded } from "./support/console-page.js";
import { useConsoleSuite } from "./support/console-suite.js";
import { screenshot } from "./support/screenshots.js";

// Heartbeats a minute apart: whatever makes the page live, it is not a heartbeat.
// Every usage change is its own sample, so the charts move within one test.
const suite = useConsoleSuite({ timeScale: 0.05, heartbeatIntervalMs: 60_000, usageSampleIntervalMs: 1 });
let page: Page;

const names = (p: Page) =>
  p.locator('[data-testid="vcluster-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-name")));

beforeAll(async () => {
  const vclusters = [
    { name: "alpha", namespace: "team-a", labels: { env: "dev" } },
    { name: "bravo-web", namespace: "team-b", labels: { env: "prod" } },
    { name: "charlie-web", namespace: "team-a", labels: { env: "prod" } },
  ];
  for (const v of vclusters) await suite.api.vclusters.createVCluster(v);
  for (const v of vclusters) await suite.api.waitUntilRunning(v, { timeoutMs: 30_000 });
  await suite.api.vclusters.suspendVCluster({ name: "alpha", namespace: "team-a" });
  await suite.api.waitUntilSuspended({ name: "alpha", namespace: "team-a" }, { timeoutMs: 30_000 });
});

async function open(path = "/"): Promise<Page> {
  page = await suite.browser.context.newPage();
  await page.goto(`${suite.stack.url}${path}`);
  return page;
}

/** The elements that stick out to the right of the viewport, for the failure message. */
function widerThanScreen(): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 8)
      .map((el) => `${el.tagName}.${el.className}`),
  );
}

afterEach(async () => {
  await page?.setViewportSize({ width: 1366, height: 860 });
  await page?.close();
});

describe("the console's list", () => {
  it("is live as soon as the list has answered, without waiting for a heartbeat", async () => {
    await open();
    await row(page, "alpha").waitFor();
    // The heartbeat is a minute away; the list's answer is what makes the page live.
    await waitForLive(page);
    expect(await page.locator("[data-status]").textContent()).toContain("Live");
  });

  it("searches by name, sorts by any column both ways, and keeps both in the URL", async () => {
    await open();
    await row(page, "alpha").waitFor();
    await page.getByLabel("Search by name").fill("WEB");
    await row(page, "alpha").waitFor({ state: "detached" });
    expect(await names(page)).toEqual(["bravo-web", "charlie-web"]);
    await page.getByLabel("Search by name").fill("");
    await page.getByRole("button", { name: "Phase" }).click();
    expect(await names(page)).toEqual(["charlie-web", "bravo-web", "alpha"]);
    await expect(page.locator("th[aria-sort]").getAttribute("aria-sort")).resolves.toBe("ascending");
    await page.getByRole("button", { name: "Phase" }).click();
    expect((await names(page))[0]).toBe("alpha");
    await expect(page.locator("th[aria-sort]").getAttribute("aria-sort")).resolves.toBe("descending");
    await page.getByRole("button", { name: "Namespace" }).click();
    expect(await names(page)).toEqual(["alpha", "charlie-web", "bravo-web"]);
    expect(page.url()).toContain("sort=namespace");
    await screenshot(page, "20-list-sorted", { fullPage: false });
    await page.reload();
    await row(page, "alpha").waitFor();
    expect(await names(page)).toEqual(["alpha", "charlie-web", "bravo-web"]);
  });

  it("moves, opens and selects with the keyboard", async () => {
    await open();
    await row(page, "alpha").waitFor();
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Search by name");
    await page.keyboard.press("Tab"); // namespace filter …
    await row(page, "alpha").focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-name"))).toBe("bravo-web");
    await page.keyboard.press(" ");
    await page.keyboard.press("j");
    await page.keyboard.press("x");
    await expect(page.getByRole("toolbar", { name: "Selected vclusters" }).textContent()).resolves.toContain(
      "2 selected",
    );
    await page.keyboard.press("Escape");
    await page.getByRole("toolbar", { name: "Selected vclusters" }).waitFor({ state: "detached" });
    await page.keyboard.press("k");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/vclusters\/team-b\/bravo-web$/);
  });

  it("suspends, resumes and deletes the selected rows together", async () => {
    await suite.api.vclusters.createVCluster({ name: "bulk-1", namespace: "bulk", labels: { set: "bulk" } });
    await suite.api.vclusters.createVCluster({ name: "bulk-2", namespace: "bulk", labels: { set: "bulk" } });
    await open("/?namespace=bulk");
    await waitForPhase(page, '[data-name="bulk-1"]', "Running");
    await waitForPhase(page, '[data-name="bulk-2"]', "Running");
    await page.getByLabel("Select all shown").check();
    const bar = page.getByRole("toolbar", { name: "Selected vclusters" });
    await expect(bar.getByRole("button", { name: "Resume (0)" }).isDisabled()).resolves.toBe(true);
    await screenshot(page, "21-list-bulk-selected", { fullPage: false });
    await bar.getByRole("button", { name: "Suspend (2)" }).click();
    await waitForPhase(page, '[data-name="bulk-1"]', "Suspended");
    await waitForPhase(page, '[data-name="bulk-2"]', "Suspended");

    await page.getByLabel("Select bulk/bulk-1").check();
    await page.getByLabel("Select bulk/bulk-2").check();
    await bar.getByRole("button", { name: "Resume (2)" }).click();
    await waitForPhase(page, '[data-name="bulk-1"]', "Running");
    await waitForPhase(page, '[data-name="bulk-2"]', "Running");

    await page.getByLabel("Select all shown").check();
    await bar.getByRole("button", { name: "Delete (2)" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.textContent()).resolves.toContain("bulk/bulk-1");
    await screenshot(page, "22-list-bulk-delete", { fullPage: false });
    await dialog.getByRole("button", { name: "Delete 2 vclusters" }).click();
    await row(page, "bulk-1").waitFor({ state: "detached" });
    await row(page, "bulk-2").waitFor({ state: "detached" });
  });

  it("works at phone width: one card per vcluster, nothing wider than the screen", async () => {
    await open();
    await page.setViewportSize({ width: 390, height: 844 });
    await row(page, "alpha").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = await widerThanScreen();
    await screenshot(page, "23-list-phone");
    expect(overflow, wide.join(" ")).toBeLessThanOrEqual(0);
    const box = await row(page, "charlie-web").boundingBox();
    expect(box?.width).toBeLessThanOrEqual(390);
    await expect(row(page, "charlie-web").getByRole("link", { name: "charlie-web" }).isVisible()).resolves.toBe(true);
    await expect(row(page, "charlie-web").locator("[data-phase]").isVisible()).resolves.toBe(true);
    await screenshot(page, "23-list-phone");
    await row(page, "charlie-web").getByRole("link").click();
    await waitForPhase(page, "h1", "Running");
    await screenshot(page, "24-detail-phone");
    const detailOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(detailOverflow, (await widerThanScreen()).join(" ")).toBeLessThanOrEqual(0);
  });
});

describe("the console's detail page", () => {
  it("colours conditions by whether they are good, not by True or False", async () => {
    await open("/vclusters/team-a/charlie-web");
    await waitForPhase(page, "h1", "Running");
    const health = (type: string) =>
      page.locator(`[data-testid="condition-row"][data-type="${type}"] [data-health]`).getAttribute("data-health");
    await expect(health("Ready")).resolves.toBe("good");
    await expect(health("Suspended")).resolves.toBe("good");
    const suspendedColour = await page
      .locator('[data-testid="condition-row"][data-type="Suspended"] [data-health]')
      .evaluate((el) => getComputedStyle(el).color);
    expect(suspendedColour).toBe("rgb(26, 127, 55)");
    await page.goto(`${suite.stack.url}/vclusters/team-a/alpha`);
    await waitForPhase(page, "h1", "Suspended");
    await expect(health("Suspended")).resolves.toBe("neutral");
    expect(await page.locator('[data-health="bad"]').count()).toBe(0);
    await screenshot(page, "25-detail-conditions-suspended");
  });

  it("shows the vcluster as YAML and copies it, and copies the kubectl commands", async () => {
    await suite.browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: suite.stack.url });
    await open("/vclusters/team-a/charlie-web");
    await waitForPhase(page, "h1", "Running");
    await page.getByText("YAML", { exact: true }).click();
    const yaml = parse((await page.getByTestId("vcluster-yaml").textContent()) ?? "");
    expect(yaml).toMatchObject({ name: "charlie-web", namespace: "team-a", status: { phase: "PHASE_RUNNING" } });
    await page.getByRole("button", { name: "Copy YAML" }).click();
    await page.getByRole("button", { name: "Copy YAML" }).getByText("Copied").waitFor();
    const copied = parse(await page.evaluate(() => navigator.clipboard.readText()));
    expect(copied.id).toBe(yaml.id);
    await page.getByRole("button", { name: "Copy command: Switch kubectl to it" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      "vcluster-api connect charlie-web -n team-a",
    );
    await page.getByRole("button", { name: "Copy command: Write a kubeconfig file" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      "vcluster-api kubeconfig charlie-web -n team-a > charlie-web.kubeconfig",
    );
    await screenshot(page, "26-detail-yaml-connect");
  });
});

describe("the activity timeline", () => {
  it("shows who did what, its outcome and duration, live as it happens", async () => {
    await suite.api.vclusters.createVCluster({ name: "timeline", namespace: "team-t" });
    await suite.api.waitUntilRunning({ name: "timeline", namespace: "team-t" }, { timeoutMs: 30_000 });
    await open("/vclusters/team-t/timeline");
    await waitForPhase(page, "h1", "Running");
    const event = (reason: string) => page.locator(`[data-testid="activity-event"][data-reason="${reason}"]`);
    await event("CreateSucceeded").waitFor();
    await expect(event("CreateRequested").textContent()).resolves.toContain("by anonymous");
    await markDocument(page);

    // Another client suspends it: the timeline follows without a reload.
    await suite.api.vclusters.suspendVCluster({ name: "timeline", namespace: "team-t" });
    await event("SuspendSucceeded").waitFor();
    const done = (await event("SuspendSucceeded").textContent()) ?? "";
    expect(done).toMatch(/Succeeded/);
    expect(done).toMatch(/took \d+(\.\d)? s/);
    expect(await event("PhaseChanged").count()).toBeGreaterThan(0);
    expect(
      await page.locator('[data-testid="activity-event"][data-reason="ConditionChanged"]').count(),
    ).toBeGreaterThan(0);

    // A refused request is a warning in the timeline too.
    await page.getByRole("button", { name: "Resume" }).waitFor();
    await suite.api.vclusters.suspendVCluster({ name: "timeline", namespace: "team-t" }).catch(() => undefined);
    await page.getByRole("button", { name: "Resume" }).click();
    await event("ResumeSucceeded").waitFor();
    await expect(event("SuspendRefused").count()).resolves.toBe(1);
    // The server's refusal names phases in the API's spelling; the page in its own.
    const refusal = (await event("SuspendRefused").textContent()) ?? "";
    expect(refusal).toContain("Suspended");
    expect(refusal).not.toContain("PHASE_");
    expect(await wasReloaded(page)).toBe(false);
    await page.locator(".timeline").scrollIntoViewIfNeeded();
    await screenshot(page, "28-detail-activity");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator(".timeline").scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, "29-detail-activity-phone", { fullPage: false });
  });
});

describe("usage over time", () => {
  it("charts CPU, memory and storage from the server's samples, and follows changes live", async () => {
    const ref = { name: "charted", namespace: "team-u" };
    await suite.api.vclusters.createVCluster({ ...ref, spec: { replicas: 1 } });
    await suite.api.waitUntilRunning(ref, { timeoutMs: 30_000 });
    await open("/vclusters/team-u/charted");
    await waitForPhase(page, "h1", "Running");
    const chart = (series: string) => page.locator(`[data-testid="usage-chart"][data-series="${series}"]`);
    for (const series of ["cpu", "memory", "storage"]) await chart(series).waitFor();
    const { samples } = await suite.api.vclusters.listVClusterUsage(ref);
    const running = samples.at(-1);
    expect(running?.cpuCores).toBeGreaterThan(0);
    // The figure is the server's newest sample; the chart's name summarises the history for screen readers.
    const cpu = page.getByRole("img", { name: /^CPU since .*now \d+m cores$/ });
    await cpu.waitFor();
    expect(await chart("cpu").locator('[data-testid="usage-now"]').textContent()).toBe(
      `${Math.round((running?.cpuCores ?? 0) * 1000)}m cores`,
    );
    await markDocument(page);

    // Another client gives it more CPU and then suspends it: the charts follow without a reload.
    await suite.api.vclusters.scaleVCluster({ ...ref, resources: { cpuRequest: "500m", memoryRequest: "1Gi" } });
    await suite.api.waitUntilRunning(ref, { timeoutMs: 30_000 });
    const scaled = (await suite.api.vclusters.listVClusterUsage(ref)).samples.at(-1);
    expect(scaled?.cpuCores).toBeGreaterThan(running?.cpuCores ?? 0);
    const scaledText = `${Math.round((scaled?.cpuCores ?? 0) * 1000)}m cores`;
    await page
      .getByRole("img", { name: new RegExp(`^CPU since .*between 0 cores and ${scaledText}, now ${scaledText}$`) })
      .waitFor();
    await suite.api.vclusters.suspendVCluster(ref);
    await waitForPhase(page, "h1", "Suspended");
    await page.getByRole("img", { name: /^CPU since .*now 0 cores$/ }).waitFor();
    expect(await chart("cpu").locator('[data-testid="usage-now"]').textContent()).toBe("0 cores");
    expect(await chart("memory").locator('[data-testid="usage-now"]').textContent()).toBe("0 B");
    // Storage outlives the suspend: the backing store stays.
    expect(await chart("storage").locator('[data-testid="usage-now"]').textContent()).not.toBe("0 B");
    // Three CPU levels (as created, scaled up, suspended): the line steps at each change.
    const steps = await chart("cpu").locator(".usage-line").getAttribute("d");
    expect((steps?.match(/V/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(await wasReloaded(page)).toBe(false);
    await page.locator(".usage-charts").scrollIntoViewIfNeeded();
    await screenshot(page, "30-detail-usage", { fullPage: false });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator(".usage-charts").scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, "31-detail-usage-phone", { fullPage: false });
  });
});

describe("the create form", () => {
  it("names each field by its label alone and describes it by its hint", async () => {
    await open();
    await page.getByRole("button", { name: "Create vcluster" }).click();
    const dialog = page.getByRole("dialog");
    const name = dialog.getByRole("textbox", { name: "Name", exact: true });
    await expect(name.getAttribute("name")).resolves.toBe("name");
    const describedBy = (await name.getAttribute("aria-describedby")) ?? "";
    await expect(page.locator(`[id="${describedBy}"]`).textContent()).resolves.toBe(
      "Lowercase letters, digits and '-'; at most 53 characters",
    );
    await expect(dialog.getByRole("textbox", { name: "CPU request", exact: true }).getAttribute("name")).resolves.toBe(
      "cpuRequest",
    );
  });

  it("marks every field the server refused, not only the first", async () => {
    // The server's answer to this create, as the API words a request with several bad fields.
    const detail = create(ErrorDetailSchema, {
      reason: "INVALID_FIELD",
      field: "name",
      violations: [
        { field: "name", description: "name: must be a DNS-1123 label" },
        { field: "spec.replicas", description: "spec.replicas: must be between 1 and 9" },
        { field: "spec.resources.cpu_request", description: 'spec.resources.cpu_request: invalid quantity "lots"' },
        { field: "spec.network.pod_cidr", description: "spec.network.pod_cidr: must be a CIDR" },
      ],
      omittedViolations: 1,
    });
    const value = Buffer.from(toBinary(ErrorDetailSchema, detail)).toString("base64").replace(/=+$/, "");
    await open();
    await page.route("**/vcluster.api.v1.VClusterService/CreateVCluster", (route) =>
      route.fulfill({
        status: 400,
        contentType: "application/json",
        body: JSON.stringify({
          code: "invalid_argument",
          message: "name: must be a DNS-1123 label; and 4 more",
          details: [{ type: "vcluster.api.v1.ErrorDetail", value }],
        }),
      }),
    );
    await page.getByRole("button", { name: "Create vcluster" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.locator('input[name="name"]').fill("Bad_Name");
    await dialog.locator('input[name="replicas"]').fill("0");
    await dialog.locator('input[name="cpuRequest"]').fill("lots");
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    const invalid = dialog.locator('[aria-invalid="true"]');
    await invalid.first().waitFor();
    expect(await invalid.evaluateAll((els) => els.map((el) => el.getAttribute("name")))).toEqual([
      "name",
      "replicas",
      "cpuRequest",
    ]);
    const summary = (await dialog.locator(".form-error").textContent()) ?? "";
    expect(summary).toContain("Please correct the 3 highlighted fields.");
    expect(summary).toContain("spec.network.pod_cidr: must be a CIDR");
    expect(summary).toContain("and 1 more problems the server did not list");
    await screenshot(page, "27-create-every-violation", { fullPage: false });
  });
});
