// Builds two minimal browser apps, one on the SDK and one on bare connect-web, and reports
// what the SDK's helpers cost in bytes shipped (minified and gzipped).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";

interface Size {
  minified: number;
  gzipped: number;
}

const packageDir = fileURLToPath(new URL("..", import.meta.url));

async function bundleSize(entry: string): Promise<Size> {
  const outDir = await mkdtemp(join(tmpdir(), "web-bench-"));
  try {
    await build({
      configFile: false,
      logLevel: "error",
      // The SDK app imports the package by name, as an application would.
      resolve: { alias: { "@open-vcluster/web": join(packageDir, "dist/index.js") } },
      build: {
        outDir,
        emptyOutDir: true,
        minify: true,
        target: "es2022",
        modulePreload: false,
        rollupOptions: { input: fileURLToPath(new URL(entry, import.meta.url)) },
      },
    });
    let minified = 0;
    let gzipped = 0;
    for (const file of await readdir(join(outDir, "assets"))) {
      const bytes = await readFile(join(outDir, "assets", file));
      minified += bytes.length;
      gzipped += gzipSync(bytes, { level: 9 }).length;
    }
    return { minified, gzipped };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const sdk = await bundleSize("./apps/sdk-app.ts");
const bare = await bundleSize("./apps/bare-app.ts");
const rows = [
  ["bundle", "minified", "gzipped"],
  ["@open-vcluster/web (client, paginate, listWatch)", kib(sdk.minified), kib(sdk.gzipped)],
  ["bare connect-web (same RPCs)", kib(bare.minified), kib(bare.gzipped)],
  ["difference", kib(sdk.minified - bare.minified), kib(sdk.gzipped - bare.gzipped)],
];
const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  "));
