import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCommand } from "./run-command.js";

/**
 * Copies the repository's working tree (tracked and new files, nothing git ignores: no
 * node_modules, dist or caches) into `dir`, makes it a git repository of its own (release tags
 * land there) and installs it from the local pnpm store. Versions are bumped and packages
 * published in the copy, so the real work tree never changes.
 */
export async function copyWorkspace(root: string, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = listed.split("\0").filter((file) => file.length > 0 && existsSync(join(root, file)));
  if (!files.includes("pnpm-workspace.yaml")) throw new Error(`${root} does not look like the workspace root`);
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(root, file), join(dir, file));
  }
  const git = ["-c", "user.name=release-e2e", "-c", "user.email=release-e2e@invalid", "-c", "commit.gpgsign=false"];
  await runCommand("git", ["init", "--quiet", "--initial-branch=main"], { cwd: dir, env });
  await runCommand("git", [...git, "add", "--all"], { cwd: dir, env });
  await runCommand("git", [...git, "commit", "--quiet", "--message", "Scratch copy"], { cwd: dir, env });
  await runCommand("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"], { cwd: dir, env });
}
