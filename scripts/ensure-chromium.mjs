#!/usr/bin/env node
// Finds the Chromium the browser tests drive, installing Debian's `chromium` package when the
// machine has none, so `npm test` needs nothing installed by hand. CHROMIUM_PATH names another
// executable; it must exist, since a missing browser has to fail the run rather than be skipped.
//
//   node scripts/ensure-chromium.mjs     # prints the executable's path
//
// Also importable: `ensureChromium()` returns the same path.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where Debian's package puts it. */
export const DEBIAN_CHROMIUM = "/usr/bin/chromium";

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasCommand(name) {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

function installDebianChromium() {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root && !hasCommand("sudo")) return "installing needs root or sudo";
  const apt = (...args) => {
    const [cmd, argv] = root ? ["apt-get", args] : ["sudo", ["-n", "apt-get", ...args]];
    return spawnSync(cmd, argv, {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status;
  };
  process.stderr.write("ensure-chromium: installing Debian's chromium package for the browser tests\n");
  if (apt("update", "-qq") !== 0) return "apt-get update failed";
  if (apt("install", "-y", "-qq", "chromium") !== 0) return "apt-get install chromium failed";
  return undefined;
}

export function ensureChromium() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (executable(configured)) return configured;
    throw new Error(`CHROMIUM_PATH is ${configured}, which is not an executable file`);
  }
  if (executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const why =
    process.platform === "linux" && hasCommand("apt-get") ? installDebianChromium() : "no apt-get on this machine";
  if (why === undefined && executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new Error(
    `Chromium is needed for the browser tests and was not found at ${DEBIAN_CHROMIUM} (${why ?? "not installed"}). ` +
      "Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to its executable.",
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureChromium());
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
