// Runs the example with the Python SDK's locked environment and its source (not an install).
//   node run.mjs python main.py [url]   the example
//   node run.mjs check                  ruff, mypy --strict and pytest on the example
import { spawnSync } from "node:child_process";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureEnv } from "../../python/scripts/env.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const sdk = resolve(here, "..", "..", "python");
const bin = join(ensureEnv(), "bin");
const env = {
  ...process.env,
  // The SDK's source, and its test support (the server starter) for test_main.py.
  PYTHONPATH: [join(sdk, "src"), sdk, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
  MYPYPATH: [join(sdk, "src"), sdk].join(delimiter),
  OPEN_VCLUSTER_NODE: process.execPath,
  PYTHONDONTWRITEBYTECODE: "1",
};
const [command, ...args] = process.argv.slice(2);
const steps =
  command === "check"
    ? [
        ["ruff", ["check", "--no-cache", "."]],
        ["ruff", ["format", "--check", "--no-cache", "."]],
        ["mypy", ["--strict", "--no-incremental", "main.py", "test_main.py"]],
        ["pytest", ["-p", "no:cacheprovider", "-p", "no:asyncio", "-q", "test_main.py"]],
      ]
    : [[command, args]];
for (const [tool, toolArgs] of steps) {
  const result = spawnSync(join(bin, tool), toolArgs, { cwd: here, stdio: "inherit", env });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}
