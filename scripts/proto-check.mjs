// Checks the proto contract: lint, formatting, compatibility with the released baseline,
// and that the committed generated code is what the proto generates. Runs after the
// turbo `generate` task, so in CI any difference between the regenerated files and the
// commit means somebody changed the proto without committing the regenerated code.
import { spawnSync } from "node:child_process";

const generatedDir = "packages/api/src/gen";
const baseline = "proto/baseline.binpb";

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
// The baseline is the contract as last released; it only moves forward on release.
run("buf", ["breaking", "--against", baseline]);

const drift = run("git", ["status", "--porcelain", "--", generatedDir]).trim();
if (drift) {
  const message = `generated code differs from the commit; commit the regenerated files:\n${drift}`;
  if (process.env.CI) {
    console.error(`proto-check: ${message}`);
    process.exit(1);
  }
  console.warn(`proto-check: warning: ${message}`);
}
console.log("proto-check: lint, format, breaking and codegen freshness pass");
