// Checks the proto contract: lint, formatting, compatibility with the released baseline,
// and that the committed generated code and API reference are what the proto generates.
// Runs after the turbo `generate` and `docs:proto` tasks, so in CI any difference between
// the regenerated files and the commit means somebody changed the proto without committing
// what it generates.
import { spawnSync } from "node:child_process";

const generatedDirs = [
  "packages/api/src/gen",
  "go/gen",
  "python/src/open_vcluster/_gen",
  "docs/api",
  "packages/server/conformance/gen",
];

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    console.error(`proto-check: '${cmd} ${args.join(" ")}' failed`);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

run("buf", ["lint"]);
run("buf", ["format", "--diff", "--exit-code"]);
// The baseline is the published contract (proto/baseline/); it only moves forward on release.
run(process.execPath, ["scripts/proto-breaking.mjs"]);

const drift = run("git", ["status", "--porcelain", "--untracked-files=all", "--", ...generatedDirs]).trim();
if (drift) {
  const message = `generated code or API reference differs from the commit; commit the regenerated files:\n${drift}`;
  if (process.env.CI) {
    console.error(`proto-check: ${message}`);
    process.exit(1);
  }
  console.warn(`proto-check: warning: ${message}`);
}
console.log("proto-check: lint, format, breaking, codegen and API reference freshness pass");
