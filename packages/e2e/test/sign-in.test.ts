import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.js";
import { waitForLive } from "./support/console-page.js";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.js";
import { screenshot } from "./support/screenshots.js";

let stack: ConsoleServer;
let browser: Browser;
let tokensDir: string;

beforeAll(async () => {
  tokensDir = await mkdtemp(join(tmpdir(), "e2e-tokens-"));
  const tokensFile = join(tokensDir, "tokens.json");
  await writeFile(
    tokensFile,
    JSON.stringify({ tokens: [{ token: "s3cret-admin-token", subject: "alice", admin: true }] }),
  );
  stack = await startConsoleServer({ authTokensFile: tokensFile });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await rm(tokensDir, { recursive: true, force: true });
});

describe("signing in", () => {
  it("asks for a token, rejects a wrong one, and keeps a good one for the tab only", async () => {
    const page = await browser.context.newPage();
    await page.goto(stack.url);
    const token = page.locator('input[name="token"]');
    await token.waitFor();
    await screenshot(page, "13-sign-in");

    await token.fill("wrong-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The server did not accept this token.").waitFor();

    await token.fill("s3cret-admin-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitForLive(page);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual(["s3cret-admin-token"]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await page.reload();
    await waitForLive(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await token.waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
