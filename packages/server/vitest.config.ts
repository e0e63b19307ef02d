import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // kubectl for the kubeconfig checks, obtained before any test runs.
      globalSetup: ["test/go-tools.ts"],
    },
  }),
);
