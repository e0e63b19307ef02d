import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // helm, built from its pinned module before any test runs.
      globalSetup: ["test/helm-setup.ts"],
    },
  }),
);
