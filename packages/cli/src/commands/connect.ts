import { type Command, Option } from "commander";
import { parse } from "yaml";
import { examples, hoursOf, namespaceOption } from "../command-kit.js";
import { CliError, UsageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import {
  connectedContexts,
  type Kubeconfig,
  kubeconfigPath,
  mergeAndSwitch,
  readKubeconfig,
  removeConnected,
  writeKubeconfig,
} from "../kube/kubeconfig-file.js";
import { endpointIsSimulated, SIMULATED_NOTE } from "../output/simulated.js";
import type { CommandKit } from "./kit.js";

interface ConnectFlags {
  namespace?: string;
  format: "default" | "exec" | "token";
  validity?: string;
  kubeconfig?: string;
}

const kubeconfigOption = () =>
  new Option("--kubeconfig <file>", "kubeconfig to change (default: the first of $KUBECONFIG, else ~/.kube/config)");

export function registerConnect(program: Command, kit: CommandKit): void {
  const command = program
    .command("connect")
    .description("merge a vcluster's kubeconfig into your kubeconfig and switch kubectl to it (undo with disconnect)")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .addOption(
      new Option("--format <format>", "credentials: client certificate, exec plugin, or expiring token")
        .choices(["default", "exec", "token"])
        .default("default"),
    )
    .option("--validity <duration>", 'lifetime of a "token" kubeconfig (default 24h)')
    .addOption(kubeconfigOption());
  examples(command, [
    "vcluster-api connect dev && kubectl get ns",
    "vcluster-api connect dev -n team-a --format exec",
    "vcluster-api disconnect",
  ]);
  command.action(async (name: string, flags: ConnectFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const client = await session.client();
    const { vcluster } = await client.vclusters.getVCluster({ name, namespace });
    const response = await client.vclusters.getVClusterKubeconfig({
      name,
      namespace,
      format: flags.format,
      validityHours: flags.validity ? hoursOf(flags.validity, "--validity") : 0,
    });
    const incoming = parse(Buffer.from(response.kubeconfig, "base64").toString("utf8")) as Kubeconfig;
    const file = flags.kubeconfig ?? kubeconfigPath(kit.io.env, kit.io.homeDir);
    const config = await readKubeconfig(file);
    const context = mergeAndSwitch(config, incoming, `${namespace}/${name}`);
    await writeKubeconfig(file, config);
    kit.io.stdout.write(`Switched to context "${context}" for vcluster ${namespace}/${name} (kubeconfig ${file}).\n`);
    if (endpointIsSimulated(vcluster)) kit.io.stderr.write(`warning: ${SIMULATED_NOTE}.\n`);
  });

  const disconnect = program
    .command("disconnect")
    .description("remove what connect added to your kubeconfig and switch back to the previous context")
    .argument("[name]", "vcluster name (default: the vcluster of the current context)")
    .addOption(namespaceOption())
    .addOption(kubeconfigOption());
  examples(disconnect, ["vcluster-api disconnect", "vcluster-api disconnect dev -n team-a"]);
  disconnect.action(
    async (name: string | undefined, flags: { namespace?: string; kubeconfig?: string }, cmd: Command) => {
      const file = flags.kubeconfig ?? kubeconfigPath(kit.io.env, kit.io.homeDir);
      const config = await readKubeconfig(file);
      let contexts: string[];
      if (name) {
        const namespace = await kit.session(cmd).namespace(flags.namespace);
        contexts = connectedContexts(config, `${namespace}/${name}`);
        if (contexts.length === 0) {
          throw new CliError(`vcluster ${namespace}/${name} is not connected in ${file}`, ExitCode.notFound);
        }
      } else {
        const current = config["current-context"];
        if (!current || !connectedContexts(config).includes(current)) {
          throw new UsageError(
            `the current context of ${file} was not added by connect; name the vcluster to disconnect`,
          );
        }
        contexts = [current];
      }
      let now: string | undefined;
      for (const context of contexts) now = removeConnected(config, context);
      await writeKubeconfig(file, config);
      kit.io.stdout.write(
        `Removed context ${contexts.map((c) => `"${c}"`).join(", ")}; ${now ? `switched back to "${now}"` : "no context is current now"}.\n`,
      );
    },
  );
}
