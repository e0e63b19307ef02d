#!/usr/bin/env node
// Lints the package in the current directory exactly as it will be published: packs it with
// pnpm (which applies `publishConfig` and turns `workspace:` ranges into versions), then checks
// the tarball with publint and Are the Types Wrong, and rejects what users must not receive:
// tests, stale build output, source maps without their sources, workspace-only export
// conditions and `workspace:` ranges.
//
//   node ../../scripts/lint-package.mjs      (the `lint:package` script of each published package)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const attw = fileURLToPath(new URL("../node_modules/.bin/attw", import.meta.url));
const sourceCondition = "@open-vcluster/source";
const dependencyFields = ["dependencies", "peerDependencies", "optionalDependencies"];
const requiredFields = ["license", "repository", "engines", "sideEffects", "exports", "files", "description"];

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (result.error) throw result.error;
  return result;
}

/** Problems with the packed manifest that neither publint nor attw look for. */
function manifestProblems(manifest) {
  const problems = [];
  for (const field of requiredFields) {
    if (manifest[field] === undefined) problems.push(`package.json has no "${field}"`);
  }
  for (const field of dependencyFields) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith("workspace:")) problems.push(`${field}.${name} is still "${range}"`);
    }
  }
  if (JSON.stringify(manifest.exports ?? {}).includes(sourceCondition)) {
    problems.push(`exports still has the workspace-only "${sourceCondition}" condition (set publishConfig.exports)`);
  }
  return problems;
}

/** Problems with the packed file list: tests, stale output, orphaned maps, missing README. */
function fileProblems(paths) {
  const problems = [];
  const packed = new Set(paths);
  if (!packed.has("README.md")) problems.push("README.md is not packed");
  for (const path of paths) {
    if (/(^|\/)(test|tests|__tests__)\//.test(path) || /\.(test|spec)\.[cm]?[jt]sx?(\.map)?$/.test(path)) {
      problems.push(`test file packed: ${path}`);
    }
    if (/(^|\/)(\.turbo|node_modules)\/|\.tsbuildinfo$|(^|\/)(vitest|tsconfig)[^/]*$/.test(path)) {
      problems.push(`build file packed: ${path}`);
    }
    const output = /^dist\/(.+)\.(js|d\.ts)$/.exec(path);
    if (output && !packed.has(`src/${output[1]}.ts`) && !packed.has(`src/${output[1]}.tsx`)) {
      problems.push(`stale build output (no src/${output[1]}.ts): ${path}`);
    }
    if (path.endsWith(".map") && !packed.has(path.slice(0, -".map".length))) {
      problems.push(`source map without its file: ${path}`);
    }
  }
  return problems;
}

const packDir = mkdtempSync(join(tmpdir(), "lint-package-"));
try {
  const pack = run("pnpm", ["pack", "--pack-destination", packDir, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
  if (pack.status !== 0) throw new Error(`pnpm pack failed with exit code ${pack.status}`);
  const { name, version, filename, files } = JSON.parse(pack.stdout);
  const paths = files.map((file) => file.path);

  const unpacked = run("tar", ["-xzf", filename, "-C", packDir, "package/package.json"]);
  if (unpacked.status !== 0) throw new Error(`tar could not read ${filename}: ${unpacked.stderr}`);
  const manifest = JSON.parse(readFileSync(join(packDir, "package", "package.json"), "utf8"));
  const problems = [...manifestProblems(manifest), ...fileProblems(paths)];

  const tarball = readFileSync(filename);
  const bytes = tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength);
  const { messages } = await publint({ pack: { tarball: bytes }, strict: true, level: "suggestion" });
  for (const message of messages) {
    problems.push(`publint ${message.type}: ${formatMessage(message, manifest) ?? message.code}`);
  }

  // ESM-only packages: attw's "esm-only" profile skips the CommonJS resolution modes.
  const types = run(attw, [filename, "--profile", "esm-only", "--format", "ascii", "--no-emoji", "--no-color"]);
  if (types.status !== 0) problems.push(`Are the Types Wrong:\n${types.stdout}${types.stderr}`);

  if (problems.length > 0) {
    console.error(`lint-package: ${name}@${version} is not fit to publish:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exitCode = 1;
  } else {
    const size = (tarball.byteLength / 1024).toFixed(0);
    console.log(`lint-package: ${name}@${version}: ${paths.length} files, ${size} KiB; publint and attw pass`);
  }
} finally {
  rmSync(packDir, { recursive: true, force: true });
}
