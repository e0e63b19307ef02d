import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// One browser and one server at a time: the suites share a 2-core machine with the browser.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      fileParallelism: false,
      testTimeout: 240_000,
      hookTimeout: 240_000,
      // Checks for Chromium once, before any suite, so a missing browser fails the run up front.
      globalSetup: ["test/support/require-chromium.ts"],
    },
  }),
);
