import { createClient, type VClusterApiClient } from "@open-vcluster/client";
import { afterAll, beforeAll } from "vitest";
import { type Browser, launchChromium } from "./chromium.js";
import { type ConsoleServer, type ConsoleServerOptions, startConsoleServer } from "./console-server.js";

export interface ConsoleSuite {
  /** The server serving the console and the API. */
  readonly stack: ConsoleServer;
  readonly browser: Browser;
  /** A Node SDK client of the same server: "another client" in the tests. */
  readonly api: VClusterApiClient;
}

/** One server, one Chromium and one SDK client for a test file, started before its tests. */
export function useConsoleSuite(options: ConsoleServerOptions): ConsoleSuite {
  let started: ConsoleSuite | undefined;
  let stack: ConsoleServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    stack = await startConsoleServer(options);
    browser = await launchChromium();
    started = { stack, browser, api: createClient({ baseUrl: stack.url }) };
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  const current = (): ConsoleSuite => {
    if (!started) throw new Error("the console suite is only available inside tests and hooks");
    return started;
  };
  return {
    get stack() {
      return current().stack;
    },
    get browser() {
      return current().browser;
    },
    get api() {
      return current().api;
    },
  };
}
