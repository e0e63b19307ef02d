import { cachedToken, type TokenSource } from "@open-vcluster/core";
import { type ContextEntry, loadConfig, saveConfig } from "../config/config-file.js";
import { runCredentialCommand } from "./credential-command.js";
import { refreshLogin } from "./device-login.js";

/**
 * The token of a context that does not hold one outright: from its credential command, or
 * from its OpenID sign-in (a refresh token, rotated in the config file when the issuer
 * hands out a new one). Either is cached until shortly before the token expires.
 */
export function contextTokenSource(
  context: ContextEntry,
  configFile: string,
  env: Record<string, string | undefined>,
): TokenSource | undefined {
  const { exec, oidc } = context;
  if (exec) return cachedToken(() => runCredentialCommand(exec, env));
  if (!oidc) return undefined;
  let login = oidc;
  return cachedToken(async () => {
    const refreshed = await refreshLogin(login);
    if (refreshed.refreshToken && refreshed.refreshToken !== login.refreshToken) {
      login = { ...login, refreshToken: refreshed.refreshToken };
      await saveRefreshToken(configFile, context.name, refreshed.refreshToken);
    }
    return refreshed.token;
  });
}

async function saveRefreshToken(configFile: string, contextName: string, refreshToken: string): Promise<void> {
  const config = await loadConfig(configFile);
  const entry = config.contexts.find((c) => c.name === contextName);
  if (!entry?.oidc) return;
  entry.oidc = { ...entry.oidc, refreshToken };
  await saveConfig(configFile, config);
}
