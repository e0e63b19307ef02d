import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // A test here runs the built CLI as a process several times in a row; on a loaded machine
      // each start can take many seconds. Ceilings only, as everywhere.
      testTimeout: 600_000,
      hookTimeout: 600_000,
    },
  }),
);
