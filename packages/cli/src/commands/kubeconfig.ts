import { chmod, writeFile } from "node:fs/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Command, Option } from "commander";
import { parse } from "yaml";
import { examples, hoursOf, namespaceOption } from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { endpointIsSimulated, SIMULATED_NOTE } from "../output/simulated.js";
import type { CommandKit } from "./kit.js";

interface KubeconfigFlags {
  namespace?: string;
  format: "default" | "exec" | "token";
  validity?: string;
  out?: string;
}

function decodeBase64(text: string): string {
  return Buffer.from(text, "base64").toString("utf8");
}

/** The bearer token a "token" kubeconfig carries, for the exec credential plugin. */
function tokenOf(kubeconfigYaml: string): string {
  const document = parse(kubeconfigYaml) as { users?: { user?: { token?: unknown } }[] } | null;
  const token = document?.users?.[0]?.user?.token;
  if (typeof token !== "string" || token === "") {
    throw new CliError("the server's kubeconfig carries no token", ExitCode.general);
  }
  return token;
}

/**
 * `kubeconfig token` is what "exec" kubeconfigs run: kubectl calls it for a fresh token and
 * reads an ExecCredential from stdout.
 */
function registerToken(group: Command, kit: CommandKit): void {
  group
    .command("token")
    .description("print an ExecCredential for kubectl (the credential plugin of exec kubeconfigs)")
    .requiredOption("--name <name>", "vcluster name")
    .action(async (flags: { name: string }, cmd: Command) => {
      const session = kit.session(cmd);
      // -n and --validity belong to the parent command, which reads them before this one runs.
      const inherited = cmd.optsWithGlobals<{ namespace?: string; validity?: string }>();
      const namespace = await session.namespace(inherited.namespace);
      const client = await session.client();
      const response = await client.vclusters.getVClusterKubeconfig({
        name: flags.name,
        namespace,
        format: "token",
        validityHours: hoursOf(inherited.validity ?? "1h", "--validity"),
      });
      const status: Record<string, string> = { token: tokenOf(decodeBase64(response.kubeconfig)) };
      if (response.expiresAt) status.expirationTimestamp = timestampDate(response.expiresAt).toISOString();
      const credential = { apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status };
      kit.io.stdout.write(`${JSON.stringify(credential)}\n`);
    });
}

export function registerKubeconfig(program: Command, kit: CommandKit): void {
  const command = program
    .command("kubeconfig")
    .description("print a kubeconfig for a vcluster, or write it to a file")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .addOption(
      new Option("--format <format>", "credentials: client certificate, exec plugin, or expiring token")
        .choices(["default", "exec", "token"])
        .default("default"),
    )
    .option("--validity <duration>", 'lifetime of a "token" kubeconfig (default 24h, at most 720h)')
    .option("--out <file>", "write the kubeconfig to this file (mode 0600) instead of stdout");
  registerToken(command, kit);
  examples(command, [
    "vcluster-api kubeconfig dev > dev.kubeconfig",
    "vcluster-api kubeconfig dev -n team-a --out ~/.kube/dev.yaml && kubectl --kubeconfig ~/.kube/dev.yaml get ns",
    "vcluster-api kubeconfig dev --format token --validity 8h",
    "vcluster-api kubeconfig dev --format exec   # kubectl then runs `vcluster-api kubeconfig token`",
  ]);
  command.action(async (name: string, flags: KubeconfigFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const validityHours = flags.validity ? hoursOf(flags.validity, "--validity") : 0;
    const client = await session.client();
    const response = await client.vclusters.getVClusterKubeconfig({
      name,
      namespace,
      format: flags.format,
      validityHours,
    });
    const yaml = decodeBase64(response.kubeconfig);
    const { vcluster } = await client.vclusters.getVCluster({ name, namespace });
    if (endpointIsSimulated(vcluster)) kit.io.stderr.write(`warning: ${SIMULATED_NOTE}.\n`);
    if (!flags.out) {
      kit.io.stdout.write(yaml.endsWith("\n") ? yaml : `${yaml}\n`);
      return;
    }
    // Owner-only: the file holds credentials.
    await writeFile(flags.out, yaml, { mode: 0o600 });
    await chmod(flags.out, 0o600);
    const expiry = response.expiresAt ? `, expires ${timestampDate(response.expiresAt).toISOString()}` : "";
    kit.io.stderr.write(`kubeconfig for vcluster ${namespace}/${name} written to ${flags.out}${expiry}\n`);
  });
}
