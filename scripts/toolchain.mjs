#!/usr/bin/env node
// Runs a project command with the toolchain the project targets.
//
// The project targets Node 24 LTS, but a machine may only have an older system Node.
// This script needs nothing but that system Node and npm: when the running Node is
// older than the target it installs the pinned Node 24 binary (the registry package
// `node-<platform>-<arch>`) and the pinned pnpm into the git-ignored `.toolchain/`
// folder, installs the workspace, and then runs the requested pnpm script with that
// Node first on PATH. Nothing is installed globally.
//
//   node scripts/toolchain.mjs <pnpm-script> [args...]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pins = JSON.parse(readFileSync(join(root, "scripts", "toolchain.json"), "utf8"));
const toolDir = join(root, ".toolchain");

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(cmd, args, options) {
  const status = run(cmd, args, options);
  if (status !== 0) {
    console.error(`toolchain: '${cmd} ${args.join(" ")}' failed with exit code ${status}`);
    process.exit(status);
  }
}

/** Installs the pinned Node binary and pnpm once; later runs reuse them. */
function ensureToolchain() {
  const nodeMajor = Number(process.versions.node.split(".")[0]);
  const wantMajor = Number(pins.node.split(".")[0]);
  const nodePackage = `node-${process.platform}-${process.arch}`;
  const stamp = join(toolDir, "stamp.json");
  const wanted = JSON.stringify({ node: nodeMajor < wantMajor ? pins.node : null, pnpm: pins.pnpm });
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== wanted) {
    mkdirSync(toolDir, { recursive: true });
    writeFileSync(join(toolDir, "package.json"), '{ "private": true }\n');
    const packages = [`pnpm@${pins.pnpm}`];
    if (nodeMajor < wantMajor) packages.push(`${nodePackage}@${pins.node}`);
    console.error(`toolchain: installing ${packages.join(", ")} into .toolchain/`);
    must("npm", ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--prefix", toolDir, ...packages], {
      shell: process.platform === "win32",
    });
    writeFileSync(stamp, wanted);
  }
  const binDirs = [join(toolDir, "node_modules", ".bin")];
  if (nodeMajor < wantMajor) binDirs.unshift(join(toolDir, "node_modules", nodePackage, "bin"));
  return binDirs;
}

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node scripts/toolchain.mjs <pnpm-script> [args...]");
  process.exit(2);
}

// Ctrl-C reaches every process of the terminal's group. The command decides how to stop
// (the server shuts down gracefully), so this wrapper waits for it instead of dying first.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => {});

const binDirs = ensureToolchain();
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
  PATH: [...binDirs, process.env.PATH].join(delimiter),
};
// Keep pnpm from trying to switch itself to another version.
env.COREPACK_ENABLE_STRICT = "0";
env.npm_config_manage_package_manager_versions = "false";
const pnpm = join(toolDir, "node_modules", ".bin", process.platform === "win32" ? "pnpm.cmd" : "pnpm");
const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
// Warnings and errors only: a clean install has nothing to say, and progress lines would bury
// the output of the command that follows.
must(pnpm, ["install", "--prefer-offline", "--loglevel", "warn", ...frozen], { env });
const status = run(pnpm, ["run", "--silent", script, ...args], { env });
process.exit(status);
