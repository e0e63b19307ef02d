import { Code, ConnectError } from "@connectrpc/connect";
import { isResourceVersionExpired } from "../errors/guards.js";

// Retrying these cannot help: the credentials, permissions or request must change first.
const permanentCodes = new Set([Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument, Code.Unimplemented]);

/** Whether a watch failure must end the watch rather than trigger a reconnect. */
export function endsWatch(error: unknown): boolean {
  if (!(error instanceof ConnectError)) return false;
  return permanentCodes.has(error.code) || isResourceVersionExpired(error);
}
