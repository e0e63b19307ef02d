// Connect, gRPC and gRPC-Web routes are "/<package>.<Service>/<Method>"; they belong to the API
// even when they arrive as GET (Connect's GET for read-only RPCs).
const RPC_PATH = /^\/[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+\/[A-Za-z_][\w]*$/;

/** The server's own endpoints beside the API and the console. */
export const SERVER_PATHS = ["/healthz", "/livez", "/readyz", "/version", "/metrics"] as const;
const SERVER_PATH_SET: ReadonlySet<string> = new Set(SERVER_PATHS);

export function isRpcPath(path: string): boolean {
  return RPC_PATH.test(path);
}

export function isServerPath(path: string): boolean {
  return SERVER_PATH_SET.has(path);
}
