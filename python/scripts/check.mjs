// The Python SDK's checks, in the order that fails fastest: version lockstep, ruff lint and
// format, mypy --strict, then pytest (unit and integration tests against the built server).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureEnv, projectDir } from "./env.mjs";

const env = ensureEnv();
const steps = [
  ["node", [join(projectDir, "scripts", "version.mjs"), "--check"]],
  [join(env, "bin", "ruff"), ["check", "--no-cache", "."]],
  [join(env, "bin", "ruff"), ["format", "--check", "--no-cache", "."]],
  [join(env, "bin", "mypy"), ["--no-incremental"]],
  // Exit code 5 (no tests collected) fails like any other non-zero code.
  [join(env, "bin", "pytest"), ["-p", "no:cacheprovider", ...process.argv.slice(2)]],
];
for (const [cmd, args] of steps) {
  const result = spawnSync(cmd === "node" ? process.execPath : cmd, args, {
    cwd: projectDir,
    stdio: "inherit",
    // The tests start the server with the Node that runs this script (the pinned one).
    env: { ...process.env, OPEN_VCLUSTER_NODE: process.execPath, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`python: '${cmd.split("/").pop()} ${args.join(" ")}' failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}
