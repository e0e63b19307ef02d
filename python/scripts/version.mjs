// The Python package versions in lockstep with the npm packages: its version is the
// Changesets fixed group's (read from @open-vcluster/api), written into pyproject.toml and
// uv.lock by `pnpm version-packages`, and checked by the package's tests.
//
//   node python/scripts/version.mjs          writes the version
//   node python/scripts/version.mjs --check  fails when pyproject.toml is behind
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectDir, uvPath } from "./env.mjs";

/** npm's semver → PEP 440: 1.2.0-rc.1 → 1.2.0rc1, 1.2.0-beta.0 → 1.2.0b0, 1.2.0-alpha.3 → 1.2.0a3. */
export function pep440(version) {
  const match = /^(\d+\.\d+\.\d+)(?:-(alpha|beta|rc|next)\.?(\d+))?$/.exec(version);
  if (!match) throw new Error(`cannot express npm version "${version}" in PEP 440`);
  const [, release, pre, number] = match;
  if (!pre) return release;
  return `${release}${{ alpha: "a", beta: "b", rc: "rc", next: "rc" }[pre]}${number}`;
}

export function wantedVersion() {
  const api = JSON.parse(readFileSync(join(projectDir, "..", "packages", "api", "package.json"), "utf8"));
  return pep440(api.version);
}

const pyproject = join(projectDir, "pyproject.toml");
const versionLine = /^version = "([^"]*)"$/m;

export function currentVersion() {
  return versionLine.exec(readFileSync(pyproject, "utf8"))?.[1];
}

if (process.argv[1]?.endsWith("version.mjs")) {
  const wanted = wantedVersion();
  if (process.argv.includes("--check")) {
    if (currentVersion() !== wanted) {
      console.error(
        `python/pyproject.toml has version ${currentVersion()}, the npm packages ${wanted}: run pnpm version-packages`,
      );
      process.exit(1);
    }
  } else if (currentVersion() !== wanted) {
    writeFileSync(pyproject, readFileSync(pyproject, "utf8").replace(versionLine, `version = "${wanted}"`));
    const lock = spawnSync(uvPath(), ["lock", "--quiet"], {
      cwd: projectDir,
      stdio: "inherit",
      env: { ...process.env, UV_PYTHON_DOWNLOADS: "never" },
    });
    if (lock.status !== 0) process.exit(lock.status ?? 1);
    console.log(`python: open-vcluster ${wanted}`);
  }
}
