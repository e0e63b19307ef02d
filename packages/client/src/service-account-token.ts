import { readFile } from "node:fs/promises";
import { type CachedToken, type CachedTokenOptions, cachedToken } from "@open-vcluster/core";

/** Where Kubernetes mounts a pod's projected service-account token. */
export const SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * The pod's projected service-account token, for a server that accepts them through
 * TokenReview. The kubelet rewrites the file before the token expires; the file is read
 * again when the cached token nears its `exp` or the server refuses it.
 */
export function serviceAccountToken(
  path: string = SERVICE_ACCOUNT_TOKEN_PATH,
  options: CachedTokenOptions = {},
): CachedToken {
  return cachedToken(async () => (await readFile(path, "utf8")).trim(), options);
}
