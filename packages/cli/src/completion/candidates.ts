import { createClient } from "@open-vcluster/client";
import { configPath, loadConfig } from "../config/config-file.js";
import { resolveConnection } from "../config/connection.js";
import type { CliIo } from "../io.js";
import type { CompletionContext } from "./parse-words.js";

/** One page is plenty for a completion menu, and keeps a big installation from slowing it down. */
const PAGE_SIZE = 1000;

function connectionFlags(context: CompletionContext) {
  const flag = (name: string) => context.flags.get(name);
  return { server: flag("--server"), token: flag("--token"), context: flag("--context"), config: flag("--config") };
}

/**
 * The names the word being completed may take, found with the connection settings typed on the
 * command line (then the environment, then the config file), as the command itself would.
 */
export async function candidates(context: CompletionContext, io: CliIo, timeoutMs: number): Promise<string[]> {
  const flags = connectionFlags(context);
  if (context.kind === undefined) return [];
  if (context.kind === "context") {
    const config = await loadConfig(configPath(flags.config, io.env, io.homeDir));
    return config.contexts.map((entry) => entry.name);
  }
  const connection = await resolveConnection(flags, io.env, io.homeDir);
  const client = createClient({
    baseUrl: connection.server,
    ...(connection.token ? { token: connection.token } : {}),
    // A menu that arrives late is worse than none: one short attempt.
    timeoutMs,
    retry: false,
  });
  const namespace = context.flags.get("--namespace") || connection.namespace || "default";
  switch (context.kind) {
    case "namespace": {
      const { vclusters } = await client.vclusters.listVClusters({ namespace: "", pageSize: PAGE_SIZE });
      return [...new Set(["default", ...vclusters.map((vcluster) => vcluster.namespace)])].sort();
    }
    case "vcluster": {
      const { vclusters } = await client.vclusters.listVClusters({ namespace, pageSize: PAGE_SIZE });
      return vclusters.map((vcluster) => vcluster.name);
    }
    case "snapshot": {
      // `restore dev --snapshot …` wants the snapshots of dev.
      const vclusterName = context.node.argumentKind === "vcluster" ? (context.args[0] ?? "") : "";
      const { snapshots } = await client.snapshots.listSnapshots({ namespace, vclusterName, pageSize: PAGE_SIZE });
      const names = snapshots.map((snapshot) => snapshot.name);
      // Ids are accepted too, but listing them beside every name would double the menu.
      const ids = context.prefix ? snapshots.map((snapshot) => snapshot.id) : [];
      return [...new Set([...names, ...ids])];
    }
  }
}
