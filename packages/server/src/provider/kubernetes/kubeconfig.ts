import { parse, stringify } from "yaml";
import { ProviderPreconditionError } from "../types.js";

interface KubeconfigDoc {
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  "current-context"?: string;
}

/**
 * The vcluster's own kubeconfig (from its `vc-<name>` secret) for a client: one cluster,
 * user and context named after the vcluster, the server set to the reachable endpoint, and
 * the credentials the requested format asks for. Credentials are never invented.
 */
export function rewriteKubeconfig(
  source: string,
  target: { name: string; server: string; format: string; token?: string },
): string {
  const doc = parse(source) as KubeconfigDoc | null;
  const current = doc?.contexts?.find((c) => c.name === doc["current-context"]) ?? doc?.contexts?.[0];
  const cluster = doc?.clusters?.find((c) => c.name === current?.context.cluster) ?? doc?.clusters?.[0];
  const user = doc?.users?.find((u) => u.name === current?.context.user) ?? doc?.users?.[0];
  if (!cluster || !user) throw new Error("the vcluster's kubeconfig secret holds no cluster or user");
  const format = target.format || "default";
  let credentials: Record<string, unknown>;
  if (format === "default") {
    credentials = { ...user.user };
  } else if (format === "token") {
    const token = (user.user.token as string | undefined) ?? target.token;
    if (!token)
      throw new ProviderPreconditionError(
        "format token needs a bearer token, but the vcluster's kubeconfig secret holds only client-certificate credentials (no key token); use format default",
      );
    credentials = { token };
  } else {
    throw new ProviderPreconditionError(
      `format ${format} needs a credential plugin on the client, which the vcluster does not provide; use format default or token`,
    );
  }
  const clusterEntry: Record<string, unknown> = { ...cluster.cluster, server: target.server };
  const out: KubeconfigDoc & { apiVersion: string; kind: string } = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: target.name, cluster: clusterEntry }],
    users: [{ name: target.name, user: credentials }],
    contexts: [{ name: target.name, context: { cluster: target.name, user: target.name } }],
    "current-context": target.name,
  };
  return stringify(out);
}
