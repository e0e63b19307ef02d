// Writes the version of the Changesets fixed group (every published npm package shares it)
// into the Go SDK, so the Go module is released in lockstep: `pnpm version-packages` runs
// this after `changeset version`, and the release tags the module go/v<version>.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "packages/api/package.json"), "utf8"));
const path = join(root, "go/vcluster/version.go");
const current = readFileSync(path, "utf8");
const next = current.replace(/const Version = "[^"]*"/, `const Version = ${JSON.stringify(version)}`);
if (next === current && !current.includes(`const Version = ${JSON.stringify(version)}`)) {
  throw new Error("sync-go-version: no Version constant in go/vcluster/version.go");
}
writeFileSync(path, next);
console.log(`sync-go-version: go/vcluster Version = ${version} (tag go/v${version})`);
