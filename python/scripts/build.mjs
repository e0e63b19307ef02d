// Builds the sdist and the wheel into dist/ with the pinned uv (its build backend, uv_build).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { projectDir, uvPath } from "./env.mjs";

rmSync(join(projectDir, "dist"), { recursive: true, force: true });
const result = spawnSync(uvPath(), ["build", "--quiet", "--out-dir", "dist"], {
  cwd: projectDir,
  stdio: "inherit",
  env: { ...process.env, UV_PYTHON_DOWNLOADS: "never" },
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
