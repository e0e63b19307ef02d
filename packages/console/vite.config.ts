import { defineConfig } from "vite";

// During `vite dev` the console calls the API on its own origin, as it does when the server
// serves it; these prefixes are forwarded to a locally running server.
const apiTarget = process.env.VCLUSTER_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: true },
  server: {
    proxy: {
      "/vcluster.api.v1.VClusterService": apiTarget,
      "/vcluster.api.v1.SnapshotService": apiTarget,
    },
  },
});
