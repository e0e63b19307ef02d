// The Python SDK's locked development environment, kept outside the checkout.
//
// uv is installed from PyPI at a pinned version into its own virtual environment under
// ~/.cache/open-vcluster/ (nothing global); `uv sync --locked` then builds the environment
// that uv.lock describes, keyed by the hash of the lock (`--locked` fails when the lock and pyproject.toml disagree), so a second
// run with the same pins costs nothing. The project itself is not installed into it: the
// tools run against `src/` directly, which lets several checkouts share one environment.
//
//   node scripts/env.mjs <tool> [args...]   runs a tool of the environment (ruff, mypy, pytest…)
//   node scripts/env.mjs --path             prints the environment's directory
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const uvVersion = "0.13.9";
const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "open-vcluster");

function log(message) {
  process.stderr.write(`python-env: ${message}\n`);
}

// Everything goes to stderr: a protoc plugin wrapper owns stdout.
function must(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ["ignore", 2, 2], ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    log(`'${cmd} ${args.join(" ")}' failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `work` while holding a directory lock, so parallel plugin runs set up the environment once. */
function withLock(name, work) {
  mkdirSync(cacheRoot, { recursive: true });
  const lock = join(cacheRoot, `${name}.lock`);
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A lock older than ten minutes belongs to a process that died.
      if (waited > 600_000) rmSync(lock, { recursive: true, force: true });
      sleepMs(200);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function python() {
  return process.env.OPEN_VCLUSTER_PYTHON || "python3";
}

function ensureUv() {
  const dir = join(cacheRoot, `uv-${uvVersion}`);
  const uv = join(dir, "bin", "uv");
  if (existsSync(uv)) return uv;
  withLock(`uv-${uvVersion}`, () => {
    if (existsSync(uv)) return;
    log(`installing uv ${uvVersion} into ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    must(python(), ["-m", "venv", dir]);
    must(join(dir, "bin", "python"), [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      `uv==${uvVersion}`,
    ]);
  });
  return uv;
}

/** Ensures the locked environment exists and returns its directory. */
export function ensureEnv() {
  const key = createHash("sha256")
    .update(readFileSync(join(projectDir, "uv.lock")))
    .digest("hex")
    .slice(0, 16);
  const env = join(cacheRoot, `python-env-${key}`);
  const stamp = join(env, ".open-vcluster-synced");
  if (existsSync(stamp)) return env;
  const uv = ensureUv();
  withLock(`python-env-${key}`, () => {
    if (existsSync(stamp)) return;
    log(`creating the locked environment in ${env}`);
    must(uv, ["sync", "--locked", "--no-install-project", "--quiet"], {
      cwd: projectDir,
      env: {
        ...process.env,
        UV_PROJECT_ENVIRONMENT: env,
        UV_PYTHON: process.env.UV_PYTHON || python(),
        // uv would fetch a Python build from outside the package registries; use the machine's.
        UV_PYTHON_DOWNLOADS: "never",
      },
    });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  });
  return env;
}

/** The path of one of the environment's executables. */
export function tool(name) {
  return join(ensureEnv(), "bin", name);
}

/** The uv executable (for `uv build` and `uv lock`). */
export function uvPath() {
  return ensureUv();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...args] = process.argv.slice(2);
  if (!name) {
    console.error("usage: node scripts/env.mjs <tool> [args...] | --path");
    process.exit(2);
  }
  if (name === "--path") {
    console.log(ensureEnv());
    process.exit(0);
  }
  const result = spawnSync(tool(name), args, {
    stdio: "inherit",
    cwd: projectDir,
    // Integration tests start the server with the Node running this script.
    env: { ...process.env, OPEN_VCLUSTER_NODE: process.env.OPEN_VCLUSTER_NODE || process.execPath },
  });
  if (result.error) throw result.error;
  process.exit(result.status ?? 1);
}
