import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";

/** How the provider reaches the host cluster. */
export interface ClusterConnection {
  /** Kubeconfig file; absent = in-cluster service-account config. */
  kubeconfig?: string;
  /** Context in the kubeconfig; absent = its current context. */
  context?: string;
}

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
}

export function connect(connection: ClusterConnection): KubeClients {
  const config = new KubeConfig();
  if (connection.kubeconfig) {
    config.loadFromFile(connection.kubeconfig);
    if (connection.context) {
      if (!config.getContextObject(connection.context))
        throw new Error(`context "${connection.context}" is not in ${connection.kubeconfig}`);
      config.setCurrentContext(connection.context);
    }
  } else {
    config.loadFromCluster();
  }
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
  };
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return statusCode(error) === 409;
}

/** Worth another try: the API server is busy, restarting, unreachable, or the object moved on. */
export function isTransient(error: unknown): boolean {
  const code = statusCode(error);
  if (code !== undefined) return code === 409 || code === 429 || code >= 500;
  const text = String((error as { code?: string }).code ?? (error as Error)?.message ?? "");
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|EPIPE|socket hang up|fetch failed|UND_ERR/i.test(text);
}

/** A short human message for an API error, with the server's own reason when it gave one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = (typeof error.body === "string" ? safeJson(error.body) : error.body) as
      | { message?: string }
      | undefined;
    return `${error.code}: ${body?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
