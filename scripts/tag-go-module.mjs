// Tags the release of the Go module. A module in a subdirectory is versioned by tags with
// the directory as prefix (go/v1.2.3), which is what `go get ...@v1.2.3` resolves. The
// version is the one scripts/sync-go-version.mjs wrote, the fixed group's.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const match = /const Version = "([^"]+)"/.exec(readFileSync(join(root, "go/vcluster/version.go"), "utf8"));
if (!match) throw new Error("tag-go-module: no Version constant in go/vcluster/version.go");
const tag = `go/v${match[1]}`;
const existing = execFileSync("git", ["tag", "--list", tag], { cwd: root, encoding: "utf8" }).trim();
if (existing) {
  console.log(`tag-go-module: ${tag} exists`);
} else {
  execFileSync("git", ["tag", tag], { cwd: root });
  console.log(`tag-go-module: tagged ${tag}`);
}
