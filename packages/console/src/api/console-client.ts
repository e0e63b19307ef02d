import { createWebClient, type VClusterApiClient } from "@open-vcluster/web";
import { readToken } from "../auth/token-store.js";

/**
 * The console talks to the server that served it, so no URL needs configuring. The token is
 * read on every call, so signing in or out takes effect without rebuilding the client.
 */
export function createConsoleClient(baseUrl: string = window.location.origin): VClusterApiClient {
  return createWebClient({ baseUrl, token: () => readToken() ?? "" });
}
