/**
 * P4: what a browser app ships with the SDK. The web client with its paging and list-watch
 * helpers against a bare connect-web client of the same two RPCs (packages/web/bench/apps),
 * each bundled by esbuild (minified, ES2022, browser) and gzipped.
 *
 *   node bench/bundle.ts
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

/** A row of the bench's one summary table. */
export interface BundleRow {
  id: string;
  what: string;
  contender: string;
  figure: string;
  ratio: string;
  target: string;
  met: boolean;
}

const web = fileURLToPath(new URL("../../web/", import.meta.url));
const TARGET = 1.25;

async function gzippedSize(entry: string): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    entryPoints: [`${web}bench/apps/${entry}`],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "error",
    // The SDK app imports the package by name, as an application would: its built output.
    alias: { "@open-vcluster/web": `${web}dist/index.js` },
  });
  const code = Buffer.concat((result.outputFiles ?? []).map((file) => file.contents));
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export async function benchBundle(): Promise<BundleRow[]> {
  if (!existsSync(`${web}dist/index.js`)) {
    throw new Error("bench/bundle.ts needs the built web client: pnpm turbo run build --filter=@open-vcluster/web...");
  }
  const sdk = await gzippedSize("sdk-app.ts");
  const bare = await gzippedSize("bare-app.ts");
  const ratio = sdk.gzipped / bare.gzipped;
  return [
    {
      id: "P4",
      what: "browser bundle: web client + paginate + listWatch (esbuild min+gzip)",
      contender: `bare connect-web, same two RPCs: ${kib(bare.gzipped)} (${kib(bare.minified)} min)`,
      figure: `${kib(sdk.gzipped)} (${kib(sdk.minified)} min)`,
      ratio: `${ratio.toFixed(2)}×`,
      target: `≤ ${TARGET}×`,
      met: ratio <= TARGET,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchBundle()) {
    console.log(
      `${row.id}  ${row.what}  ${row.figure}  vs ${row.contender}  ${row.ratio}  ${row.target}  ${row.met ? "met" : "NOT met"}`,
    );
  }
}
