import { type Command, Option } from "commander";
import { stringify } from "yaml";
import { examples } from "../command-kit.js";
import { type CliConfig, type ContextEntry, configPath, loadConfig, saveConfig } from "../config/config-file.js";
import { DEFAULT_SERVER } from "../config/connection.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { renderTable } from "../output/table.js";
import type { CommandKit } from "./kit.js";

function fileOf(cmd: Command, kit: CommandKit): string {
  return configPath(cmd.optsWithGlobals<{ config?: string }>().config, kit.io.env, kit.io.homeDir);
}

function contextNamed(config: CliConfig, name: string): ContextEntry {
  const entry = config.contexts.find((c) => c.name === name);
  if (!entry) throw new CliError(`context "${name}" not found`, ExitCode.notFound);
  return entry;
}

/** Tokens are secrets: shown only when asked for, as kubectl's `config view --raw` does. */
function redacted(config: CliConfig): CliConfig {
  return {
    ...config,
    contexts: config.contexts.map((c) => ({
      ...c,
      ...(c.token ? { token: "REDACTED" } : {}),
      ...(c.oidc?.refreshToken ? { oidc: { ...c.oidc, refreshToken: "REDACTED" } } : {}),
    })),
  };
}

function registerView(group: Command, kit: CommandKit): void {
  group
    .command("view")
    .description("show the configuration file (tokens redacted unless --raw)")
    .option("--raw", "show tokens")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .action(async (flags: { raw?: boolean; output: "yaml" | "json" }, cmd: Command) => {
      const config = await loadConfig(fileOf(cmd, kit));
      const shown = flags.raw ? config : redacted(config);
      const document = { "current-context": shown.currentContext ?? "", contexts: shown.contexts };
      kit.io.stdout.write(flags.output === "json" ? `${JSON.stringify(document, null, 2)}\n` : stringify(document));
    });
}

function registerGetContexts(group: Command, kit: CommandKit): void {
  group
    .command("get-contexts")
    .description("list the contexts; * marks the current one")
    .action(async (_flags: unknown, cmd: Command) => {
      const config = await loadConfig(fileOf(cmd, kit));
      if (config.contexts.length === 0) {
        kit.io.stderr.write(`No contexts in ${fileOf(cmd, kit)}.\n`);
        return;
      }
      const columns = [
        { header: "CURRENT", value: (c: ContextEntry) => (c.name === config.currentContext ? "*" : "") },
        { header: "NAME", value: (c: ContextEntry) => c.name },
        { header: "SERVER", value: (c: ContextEntry) => c.server ?? DEFAULT_SERVER },
        { header: "NAMESPACE", value: (c: ContextEntry) => c.namespace ?? "" },
        {
          header: "AUTH",
          value: (c: ContextEntry) => (c.token ? "token" : c.exec ? "exec" : c.oidc ? "oidc" : "none"),
        },
      ];
      kit.io.stdout.write(renderTable(columns, config.contexts, new Date()));
    });
}

function registerCurrentContext(group: Command, kit: CommandKit): void {
  group
    .command("current-context")
    .description("print the current context's name")
    .action(async (_flags: unknown, cmd: Command) => {
      const config = await loadConfig(fileOf(cmd, kit));
      if (!config.currentContext) throw new CliError("current-context is not set", ExitCode.notFound);
      kit.io.stdout.write(`${config.currentContext}\n`);
    });
}

function registerUseContext(group: Command, kit: CommandKit): void {
  group
    .command("use-context")
    .description("make a context the current one")
    .argument("<name>", "context name")
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      const file = fileOf(cmd, kit);
      const config = await loadConfig(file);
      contextNamed(config, name);
      await saveConfig(file, { ...config, currentContext: name });
      kit.io.stdout.write(`Switched to context "${name}".\n`);
    });
}

interface SetContextFlags {
  server?: string;
  token?: string;
  namespace?: string;
  current?: boolean;
}

function registerSetContext(group: Command, kit: CommandKit): void {
  const command = group
    .command("set-context")
    .description(
      'create a context or change fields of an existing one: --server <url>, --token <token> ("" removes it), -n <namespace>',
    )
    .argument("<name>", "context name")
    .option("-n, --namespace <namespace>", "default namespace of the context")
    .option("--current", "also make it the current context");
  examples(command, [
    "vcluster-api config set-context local --server http://127.0.0.1:8080 --current",
    "vcluster-api config set-context prod --server https://vclusters.example.com --token $TOKEN -n team-a",
  ]);
  command.action(async (name: string, _flags: unknown, cmd: Command) => {
    // --server and --token are the root's flags; here they describe the context instead of this call.
    const flags = cmd.optsWithGlobals<SetContextFlags>();
    const file = fileOf(cmd, kit);
    const config = await loadConfig(file);
    const existing = config.contexts.find((c) => c.name === name);
    const entry: ContextEntry = { ...(existing ?? { name }) };
    if (flags.server !== undefined) entry.server = flags.server;
    if (flags.token !== undefined) {
      if (flags.token === "") delete entry.token;
      else entry.token = flags.token;
    }
    if (flags.namespace !== undefined) entry.namespace = flags.namespace;
    const contexts = existing ? config.contexts.map((c) => (c.name === name ? entry : c)) : [...config.contexts, entry];
    const next: CliConfig = { ...config, contexts };
    if (flags.current || !config.currentContext) next.currentContext = name;
    await saveConfig(file, next);
    kit.io.stdout.write(`Context "${name}" ${existing ? "modified" : "created"}.\n`);
  });
}

function registerDeleteContext(group: Command, kit: CommandKit): void {
  group
    .command("delete-context")
    .description("remove a context")
    .argument("<name>", "context name")
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      const file = fileOf(cmd, kit);
      const config = await loadConfig(file);
      contextNamed(config, name);
      const next: CliConfig = { contexts: config.contexts.filter((c) => c.name !== name) };
      if (config.currentContext && config.currentContext !== name) next.currentContext = config.currentContext;
      await saveConfig(file, next);
      kit.io.stdout.write(`Context "${name}" deleted.\n`);
    });
}

export function registerConfig(program: Command, kit: CommandKit): void {
  const group = program
    .command("config")
    .description("view and edit the configuration file's contexts (server, token, namespace)");
  registerView(group, kit);
  registerGetContexts(group, kit);
  registerCurrentContext(group, kit);
  registerUseContext(group, kit);
  registerSetContext(group, kit);
  registerDeleteContext(group, kit);
  examples(group, [
    "vcluster-api config set-context local --server http://127.0.0.1:8080 --current",
    "vcluster-api config get-contexts",
    "vcluster-api config use-context prod",
    "vcluster-api --context prod list",
  ]);
}
