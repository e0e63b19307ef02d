#!/usr/bin/env node
// Finds h2load (the HTTP/2 load generator of nghttp2) for the benchmarks: the one on PATH, else
// Debian's `nghttp2-client` and the libraries it needs that the machine lacks, downloaded with
// `apt-get download` (no root needed) and unpacked into a cache outside the checkout, keyed by
// the package versions. Prints the command; `ensureH2load()` returns { command, env }.
//
//   node scripts/ensure-h2load.mjs
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

// Libraries h2load links that a slim Debian image may not have.
const PACKAGES = ["nghttp2-client", "libev4", "libjemalloc2", "libnghttp2-14", "libjansson4", "libxml2", "libc-ares2"];

function cacheBase() {
  return (
    process.env.OPEN_VCLUSTER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "open-vcluster")
  );
}

function onPath() {
  const found = spawnSync("sh", ["-c", "command -v h2load"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function installed(pkg) {
  return spawnSync("dpkg", ["-s", pkg], { stdio: "ignore" }).status === 0;
}

function candidate(pkg) {
  const policy = execFileSync("apt-cache", ["policy", pkg], { encoding: "utf8" });
  const version = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  if (!version || version === "(none)") {
    throw new Error(`ensure-h2load: apt knows no ${pkg}; run apt-get update first`);
  }
  return version;
}

/** h2load's command and the environment it runs in (its unpacked libraries, if any). */
export function ensureH2load() {
  const existing = onPath();
  if (existing) return { command: existing, env: process.env };
  const wanted = PACKAGES.filter((pkg) => pkg === "nghttp2-client" || !installed(pkg));
  const key = wanted.map((pkg) => `${pkg}_${candidate(pkg)}`.replace(/[^\w.+-]/g, "_")).join("-");
  const root = join(cacheBase(), "debs", key);
  const command = join(root, "usr/bin/h2load");
  const libs = join(root, "usr/lib/x86_64-linux-gnu");
  // Only h2load runs with this: its unpacked libraries first, then the system ones as usual.
  const env = { ...process.env, LD_LIBRARY_PATH: libs };
  if (existsSync(command)) return { command, env };

  const partial = `${root}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  try {
    process.stderr.write(`ensure-h2load: downloading ${wanted.join(", ")} into ${root}\n`);
    execFileSync("apt-get", ["download", ...wanted], { cwd: partial, stdio: ["ignore", "ignore", "inherit"] });
    for (const deb of readdirSync(partial).filter((f) => f.endsWith(".deb"))) {
      execFileSync("dpkg-deb", ["-x", join(partial, deb), partial]);
      rmSync(join(partial, deb));
    }
    // Another run may have finished first; both unpacked the same packages.
    if (!existsSync(command)) renameSync(partial, root);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return { command, env };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${ensureH2load().command}\n`);
}
