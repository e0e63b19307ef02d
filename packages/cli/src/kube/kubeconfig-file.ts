import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { UsageError } from "../errors.js";

/** The extension this CLI puts on the contexts it adds, so `disconnect` finds them and knows where to go back. */
export const CONNECT_EXTENSION = "vcluster-api.open-vcluster.io/connect";

interface Named {
  name: string;
  [key: string]: unknown;
}

interface ContextEntry extends Named {
  context?: { cluster?: string; user?: string; extensions?: { name: string; extension?: unknown }[] };
}

export interface ConnectRecord {
  vcluster: string;
  previousContext: string;
}

/** A kubeconfig document, read and written as kubectl does, keeping everything it does not touch. */
export interface Kubeconfig {
  clusters: Named[];
  users: Named[];
  contexts: ContextEntry[];
  "current-context"?: string;
  [key: string]: unknown;
}

/** kubectl's choice of file: the first $KUBECONFIG entry (the first that exists), else ~/.kube/config. */
export function kubeconfigPath(env: Record<string, string | undefined>, homeDir: string): string {
  const entries = (env.KUBECONFIG ?? "").split(delimiter).filter((entry) => entry !== "");
  return entries[0] ?? join(homeDir, ".kube", "config");
}

export async function readKubeconfig(file: string): Promise<Kubeconfig> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new UsageError(`cannot read kubeconfig ${file}: ${(error as Error).message}`);
    }
  }
  const document = (text.trim() === "" ? {} : parse(text)) as Partial<Kubeconfig> | null;
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new UsageError(`kubeconfig ${file}: expected a mapping`);
  }
  return {
    apiVersion: "v1",
    kind: "Config",
    ...document,
    clusters: document.clusters ?? [],
    users: document.users ?? [],
    contexts: document.contexts ?? [],
  };
}

/** Owner-only, as kubectl writes it: the file holds credentials. */
export async function writeKubeconfig(file: string, config: Kubeconfig): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, stringify(config), { mode: 0o600 });
  await chmod(file, 0o600);
}

function upsert<T extends Named>(list: T[], entry: T): T[] {
  return [...list.filter((item) => item.name !== entry.name), entry];
}

/**
 * Merges a single-context kubeconfig (what the server returns) into `target` and makes its
 * context current, recording the context that was current before, as the vcluster CLI does.
 */
export function mergeAndSwitch(target: Kubeconfig, incoming: Kubeconfig, vcluster: string): string {
  const contextName = incoming["current-context"] ?? incoming.contexts[0]?.name;
  const context = incoming.contexts.find((c) => c.name === contextName);
  if (!contextName || !context) throw new Error("the server's kubeconfig has no context");
  const before = target["current-context"];
  // Connecting twice keeps the first context to return to, not the vcluster's own.
  const previous =
    before === contextName ? (connectRecord(target, contextName)?.previousContext ?? "") : (before ?? "");
  const record: ConnectRecord = { vcluster, previousContext: previous };
  for (const cluster of incoming.clusters) target.clusters = upsert(target.clusters, cluster);
  for (const user of incoming.users) target.users = upsert(target.users, user);
  const extensions = [
    ...(context.context?.extensions ?? []).filter((e) => e.name !== CONNECT_EXTENSION),
    { name: CONNECT_EXTENSION, extension: record },
  ];
  target.contexts = upsert(target.contexts, { ...context, context: { ...context.context, extensions } });
  target["current-context"] = contextName;
  return contextName;
}

export function connectRecord(config: Kubeconfig, contextName: string): ConnectRecord | undefined {
  const context = config.contexts.find((c) => c.name === contextName);
  const extension = context?.context?.extensions?.find((e) => e.name === CONNECT_EXTENSION)?.extension;
  if (!extension || typeof extension !== "object") return undefined;
  const { vcluster, previousContext } = extension as Partial<ConnectRecord>;
  return typeof vcluster === "string" ? { vcluster, previousContext: previousContext ?? "" } : undefined;
}

/** The contexts `connect` added for a vcluster ("namespace/name"). */
export function connectedContexts(config: Kubeconfig, vcluster?: string): string[] {
  return config.contexts
    .filter((c) => {
      const record = connectRecord(config, c.name);
      return record !== undefined && (vcluster === undefined || record.vcluster === vcluster);
    })
    .map((c) => c.name);
}

/**
 * Removes a context `connect` added, with its cluster and user unless another context uses them,
 * and switches back to the context that was current before (if it still exists).
 */
export function removeConnected(config: Kubeconfig, contextName: string): string | undefined {
  const record = connectRecord(config, contextName);
  const context = config.contexts.find((c) => c.name === contextName);
  config.contexts = config.contexts.filter((c) => c.name !== contextName);
  const stillUsed = (key: "cluster" | "user", name: string | undefined) =>
    config.contexts.some((c) => c.context?.[key] === name);
  if (context?.context?.cluster && !stillUsed("cluster", context.context.cluster)) {
    config.clusters = config.clusters.filter((c) => c.name !== context.context?.cluster);
  }
  if (context?.context?.user && !stillUsed("user", context.context.user)) {
    config.users = config.users.filter((u) => u.name !== context.context?.user);
  }
  if (config["current-context"] !== contextName) return config["current-context"];
  const back = record?.previousContext;
  if (back && config.contexts.some((c) => c.name === back)) config["current-context"] = back;
  else delete config["current-context"];
  return config["current-context"];
}
