#!/usr/bin/env node
// Runs a command with another pinned Node release first on PATH, so the SDK packages' tests
// also run on the next Node line (see `testNodes` in scripts/toolchain.json). The release is
// the registry package `node-<platform>-<arch>`, installed once into `.toolchain/node-<version>/`,
// the same way scripts/toolchain.mjs installs the project's own Node.
//
//   node scripts/with-node.mjs <major> <command> [args...]     e.g. with-node.mjs 26 vitest run
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pins = JSON.parse(readFileSync(join(root, "scripts", "toolchain.json"), "utf8"));
const [major, command, ...args] = process.argv.slice(2);
const version = pins.testNodes?.[major];
if (!version || !command) {
  console.error(
    `usage: node scripts/with-node.mjs <${Object.keys(pins.testNodes ?? {}).join("|")}> <command> [args...]`,
  );
  process.exit(2);
}

const nodePackage = `node-${process.platform}-${process.arch}`;
const toolchain = join(root, ".toolchain");
const home = join(toolchain, `node-${version}`);
const binDir = join(home, "node_modules", nodePackage, "bin");
if (!existsSync(join(binDir, "node"))) {
  mkdirSync(toolchain, { recursive: true });
  // Installed beside the final folder and moved into place in one step, so packages whose
  // tests start at the same time never see a half-installed Node.
  const staging = mkdtempSync(join(toolchain, `.node-${version}-`));
  writeFileSync(join(staging, "package.json"), '{ "private": true }\n');
  console.error(`with-node: installing ${nodePackage}@${version} into .toolchain/`);
  const install = spawnSync(
    "npm",
    ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--prefix", staging, `${nodePackage}@${version}`],
    { stdio: ["ignore", "ignore", "inherit"], shell: process.platform === "win32" },
  );
  if (install.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    console.error(`with-node: installing Node ${version} failed`);
    process.exit(install.status ?? 1);
  }
  try {
    renameSync(staging, home);
  } catch {
    // Another package's run finished first; its copy is the same release.
    rmSync(staging, { recursive: true, force: true });
  }
}

const env = { ...process.env, PATH: [binDir, process.env.PATH].join(delimiter) };
const check = spawnSync(join(binDir, "node"), ["--version"], { encoding: "utf8" });
if (check.stdout.trim() !== `v${version}`) {
  console.error(`with-node: expected Node v${version}, found ${check.stdout.trim() || check.error}`);
  process.exit(1);
}
const result = spawnSync(command, args, { stdio: "inherit", env, shell: process.platform === "win32" });
process.exit(result.status ?? 1);
