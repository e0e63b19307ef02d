#!/usr/bin/env node
import { execFileSync, spawnSync } from "node:child_process";
// Builds a Go command line tool that tests need from its module under
// `tools/<name>/`, with the module's pinned versions from the Go module proxy, and prints the
// path of the binary. The build is cached outside the checkout, keyed by the module's files and
// the Go version, so later runs (and fresh clones on the same machine) reuse it.
//
//   node scripts/go-tool.mjs <name>      # prints e.g. ~/.cache/open-vcluster/go-tools/helm-<key>/helm
//
// Also importable: `ensureGoTool(name)` returns the same path.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function goToolCacheDir() {
  const base =
    process.env.OPEN_VCLUSTER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "open-vcluster");
  return join(base, "go-tools");
}

function goVersion() {
  try {
    return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("go-tool: the Go toolchain (`go`) is needed to build test tools; install Go 1.26 or newer");
  }
}

/** The package to build: the module's `tool` directive, or the module itself (a main.go). */
function buildTarget(goMod) {
  const tool = /^tool\s+(\S+)/m.exec(goMod);
  return tool ? tool[1] : ".";
}

/** Optional: linker flags, one per line (e.g. `-X pkg.version=v1.2.3`, so the tool reports its version). */
const LDFLAGS_FILE = "ldflags";

function ldflags(moduleDir) {
  const file = join(moduleDir, LDFLAGS_FILE);
  const extra = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
    : [];
  return ["-s", "-w", ...extra].join(" ");
}

export function ensureGoTool(name) {
  const moduleDir = join(root, "tools", name);
  if (!existsSync(join(moduleDir, "go.mod"))) throw new Error(`go-tool: no module tools/${name}/go.mod`);
  const files = readdirSync(moduleDir)
    .filter((f) => f === "go.mod" || f === "go.sum" || f === LDFLAGS_FILE || f.endsWith(".go"))
    .sort();
  const hash = createHash("sha256").update(goVersion());
  for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(join(moduleDir, file)));
  const outDir = join(goToolCacheDir(), `${name}-${hash.digest("hex").slice(0, 16)}`);
  const binary = join(outDir, name);
  if (existsSync(binary)) return binary;

  mkdirSync(outDir, { recursive: true });
  const partial = join(outDir, `${name}.partial-${process.pid}`);
  const target = buildTarget(readFileSync(join(moduleDir, "go.mod"), "utf8"));
  process.stderr.write(`go-tool: building ${name} (${target}) into ${outDir}\n`);
  const result = spawnSync("go", ["build", "-trimpath", `-ldflags=${ldflags(moduleDir)}`, "-o", partial, target], {
    cwd: moduleDir,
    stdio: ["ignore", "inherit", "inherit"],
    // The module's go.sum pins every dependency; a build never edits it.
    env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false", GOWORK: "off", CGO_ENABLED: "0" },
  });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`go-tool: building ${name} failed (exit ${result.status ?? result.signal})`);
  }
  // Concurrent builders each write their own partial file; whichever renames last wins, and
  // both are the same build.
  renameSync(partial, binary);
  return binary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const name = process.argv[2];
  if (!name) {
    console.error("usage: node scripts/go-tool.mjs <name of a module under tools/>");
    process.exit(2);
  }
  try {
    console.log(ensureGoTool(name));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
