import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CrossOriginResult } from "./fixtures/cross-origin-page.js";
import { type Browser, launchChromium } from "./support/chromium.js";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.js";
import { buildCrossOriginBundle, type PageServer, servePage } from "./support/cross-origin-page.js";

let stack: ConsoleServer;
let browser: Browser;
let allowed: PageServer;
let refused: PageServer;

beforeAll(async () => {
  const script = await buildCrossOriginBundle();
  allowed = await servePage(script);
  refused = await servePage(script);
  stack = await startConsoleServer({ corsOrigins: [allowed.origin], timeScale: 0 }, { withConsole: false });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await allowed?.close();
  await refused?.close();
});

async function openPage(origin: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.context.newPage();
  const requests: string[] = [];
  page.on("request", (request) => {
    if (request.url().startsWith(stack.url)) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  await page.goto(origin);
  await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
  return { page, requests };
}

function runInPage(page: Page, protocol: string, name: string): Promise<CrossOriginResult> {
  return page.evaluate(
    ([baseUrl, p, n]) =>
      (
        window as unknown as { runCrossOrigin: (b: string, p: string, n: string) => Promise<CrossOriginResult> }
      ).runCrossOrigin(baseUrl, p, n),
    [stack.url, protocol, name] as const,
  );
}

describe("the web client on another origin", () => {
  it("calls, lists with GET and watches over the Connect protocol", async () => {
    const { page, requests } = await openPage(allowed.origin);
    const result = await runInPage(page, "connect", "from-connect");
    expect(result).toEqual({ created: "from-connect", listed: ["from-connect"], watched: "from-connect" });
    expect(requests).toContain("POST /vcluster.api.v1.VClusterService/CreateVCluster");
    expect(requests).toContain("GET /vcluster.api.v1.VClusterService/ListVClusters");
    expect(requests).toContain("POST /vcluster.api.v1.VClusterService/WatchVCluster");
  });

  it("calls and watches over gRPC-Web", async () => {
    const { page, requests } = await openPage(allowed.origin);
    const result = await runInPage(page, "grpc-web", "from-grpc-web");
    expect(result).toEqual({
      created: "from-grpc-web",
      listed: ["from-connect", "from-grpc-web"],
      watched: "from-grpc-web",
    });
    expect(requests).toContain("POST /vcluster.api.v1.VClusterService/ListVClusters");
  });

  it("is refused from an origin outside the allowlist", async () => {
    const { page } = await openPage(refused.origin);
    const result = await runInPage(page, "connect", "not-allowed");
    expect(result.error).toBeDefined();
    expect(result.created).toBeUndefined();
    // The browser stopped at the refused preflight: the request never reached the service.
    const names = (await stack.server.store.listVClusters({ namespace: "cors" }, "name", undefined, 100)).items;
    expect(names.map((v) => v.name)).not.toContain("not-allowed");
  });
});
