import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through this export condition,
// so tests never run against stale build output.
const conditions = ["@open-vcluster/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
