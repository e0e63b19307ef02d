import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BackgroundProcess, startBackground } from "./background-process.js";

export interface LocalRegistry {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway Verdaccio serving only our scope, from its own storage (so nothing can come from
 * the public registry by accident); anyone may publish. Clients take every other package from
 * the upstream registry directly, so the test does not depend on a proxy's cache.
 */
export async function startLocalRegistry(dir: string, env: NodeJS.ProcessEnv): Promise<LocalRegistry> {
  const config = join(dir, "config.yaml");
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(join(dir, "storage"))}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(join(dir, "htpasswd"))}`,
      "    max_users: -1",
      "packages:",
      '  "@open-vcluster/*":',
      "    access: $all",
      "    publish: $all",
      "    unpublish: $all",
      '  "**":',
      "    access: $all",
      "    publish: $authenticated",
      "server:",
      "  keepAliveTimeout: 60",
      "log: { type: stdout, format: pretty, level: error }",
      "",
    ].join("\n"),
  );
  const script = fileURLToPath(new URL("./verdaccio-process.ts", import.meta.url));
  const child: BackgroundProcess = await startBackground(process.execPath, [script, config], {
    cwd: dir,
    env,
    ready: /registry listening on (\S+)/,
  });
  return { url: child.ready, stop: () => child.stop() };
}
