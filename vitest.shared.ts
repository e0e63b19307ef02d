import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through this export condition,
// so tests never run against stale build output.
const conditions = ["@open-vcluster/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Ceilings, not expectations: tests wait for events and states, and on a loaded machine
    // (CI shares two cores with browsers and builds) a healthy test may take many times longer
    // than on an idle one. A ceiling only decides how long a real hang takes to report.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
