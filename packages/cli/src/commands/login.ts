import type { Command } from "commander";
import { deviceLogin } from "../auth/device-login.js";
import { examples } from "../command-kit.js";
import { type CliConfig, type ContextEntry, configPath, loadConfig, saveConfig } from "../config/config-file.js";
import { CliError, UsageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { CommandKit } from "./kit.js";

interface LoginFlags {
  issuer?: string;
  clientId?: string;
  scope?: string[];
  context?: string;
  server?: string;
  config?: string;
}

function contextName(config: CliConfig, flags: LoginFlags): string {
  const name = flags.context || config.currentContext;
  if (!name) throw new UsageError("--context: name the context to sign in (there is no current context)");
  return name;
}

/** `login`: the OpenID device flow; the refresh token goes into the context, in a 0600 file. */
function registerLogin(program: Command, kit: CommandKit): void {
  const command = program
    .command("login")
    .description("sign in with your identity provider (OpenID Connect device flow) and keep the sign-in in the context")
    .option("--issuer <url>", "the OpenID issuer (default: the context's)")
    .option("--client-id <id>", "this command line's client id at the issuer (default: the context's)")
    .option("--scope <scope...>", "scopes to ask for besides openid and offline_access (e.g. groups)");
  examples(command, [
    "vcluster-api login --context prod --issuer https://dex.example.com --client-id vcluster-cli --scope groups",
    "vcluster-api login   # again, when the sign-in has expired",
  ]);
  command.action(async (_flags: unknown, cmd: Command) => {
    const flags = cmd.optsWithGlobals<LoginFlags>();
    const file = configPath(flags.config, kit.io.env, kit.io.homeDir);
    const config = await loadConfig(file);
    const name = contextName(config, flags);
    const existing = config.contexts.find((c) => c.name === name);
    const issuer = flags.issuer ?? existing?.oidc?.issuer;
    const clientId = flags.clientId ?? existing?.oidc?.clientId;
    if (!issuer || !clientId)
      throw new UsageError(`--issuer and --client-id: context "${name}" has no sign-in to renew`);
    const scopes = flags.scope ?? existing?.oidc?.scopes;
    const result = await deviceLogin(
      { issuer, clientId, ...(scopes ? { scopes } : {}) },
      (uri, code) => kit.io.stderr.write(`To sign in, open ${uri}\nand confirm the code ${code}\n`),
      kit.io.signal,
    );
    if (!result.refreshToken) {
      throw new CliError(
        "the issuer gave no refresh token: allow offline_access for this client",
        ExitCode.unauthorized,
      );
    }
    const entry: ContextEntry = {
      ...(existing ?? { name }),
      ...(flags.server ? { server: flags.server } : {}),
      oidc: { issuer, clientId, ...(scopes ? { scopes } : {}), refreshToken: result.refreshToken },
    };
    delete entry.token;
    delete entry.exec;
    const contexts = existing ? config.contexts.map((c) => (c.name === name ? entry : c)) : [...config.contexts, entry];
    await saveConfig(file, { ...config, contexts, currentContext: config.currentContext ?? name });
    kit.io.stderr.write(`Signed in; context "${name}" keeps the sign-in in ${file}.\n`);
  });
}

/** `logout`: forgets the context's sign-in. */
function registerLogout(program: Command, kit: CommandKit): void {
  program
    .command("logout")
    .description("forget the sign-in kept in the context")
    .action(async (_flags: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<LoginFlags>();
      const file = configPath(flags.config, kit.io.env, kit.io.homeDir);
      const config = await loadConfig(file);
      const name = contextName(config, flags);
      const entry = config.contexts.find((c) => c.name === name);
      if (!entry?.oidc?.refreshToken) {
        kit.io.stderr.write(`Context "${name}" has no sign-in.\n`);
        return;
      }
      const { refreshToken: _dropped, ...oidc } = entry.oidc;
      entry.oidc = oidc;
      await saveConfig(file, config);
      kit.io.stderr.write(`Signed out of context "${name}".\n`);
    });
}

export function registerLoginCommands(program: Command, kit: CommandKit): void {
  registerLogin(program, kit);
  registerLogout(program, kit);
}
