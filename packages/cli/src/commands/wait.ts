import type { VCluster } from "@open-vcluster/api";
import type { Command } from "commander";
import { allNamespacesOption, examples, namespaceOption, selectorOption } from "../command-kit.js";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { phaseText } from "../output/vcluster-columns.js";
import { TransitionProgress } from "../wait/progress.js";
import { parseWaitFor } from "../wait/wait-condition.js";
import { waitUntil } from "../wait/wait-until.js";
import type { CommandKit } from "./kit.js";

interface WaitCommandFlags {
  for: string;
  timeout: string;
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  all?: boolean;
}

export function registerWait(program: Command, kit: CommandKit): void {
  const command = program
    .command("wait")
    .description(
      "wait until vclusters reach a condition, a phase, a JSONPath value, or are deleted (like kubectl wait)",
    )
    .argument("[names...]", "vcluster names")
    .requiredOption("--for <condition>", "delete | condition=TYPE[=STATUS] | phase=PHASE | jsonpath={PATH}[=VALUE]")
    .option("--timeout <duration>", "give up after this long (exit 6)", "30s")
    .addOption(namespaceOption())
    .addOption(allNamespacesOption())
    .addOption(selectorOption())
    .option("--all", "every vcluster of the namespace (with -A: of every namespace)");
  examples(command, [
    "vcluster-api wait dev --for=condition=Ready",
    "vcluster-api wait dev --for=phase=Suspended --timeout 2m",
    "vcluster-api wait -l team=ci --for=delete",
    "vcluster-api wait dev --for=jsonpath='{.status.readyReplicas}'=3",
  ]);
  command.action(async (names: string[], flags: WaitCommandFlags, cmd: Command) => {
    const condition = parseWaitFor(flags.for);
    const timeoutMs = parseDuration(flags.timeout, "--timeout");
    const bulk = flags.all === true || flags.selector !== undefined;
    if (bulk && names.length > 0) throw new UsageError("give vcluster names, or -l / --all, not both");
    if (!bulk && names.length === 0) throw new UsageError("give vcluster names, -l SELECTOR or --all");
    const session = kit.session(cmd);
    const client = await session.client();
    let refs: { name: string; namespace: string }[];
    if (bulk) {
      // As kubectl does, the selector picks the vclusters that exist now; each is then waited for.
      const namespace = await session.listNamespace(flags.namespace, flags.allNamespaces);
      const found: VCluster[] = [];
      for await (const v of client.paginateVClusters({ namespace, labelSelector: flags.selector ?? "" })) found.push(v);
      refs = found.map((v) => ({ name: v.name, namespace: v.namespace }));
      if (refs.length === 0) {
        kit.io.stderr.write("No vclusters matched; nothing to wait for.\n");
        return;
      }
    } else {
      const namespace = await session.namespace(flags.namespace);
      refs = names.map((name) => ({ name, namespace }));
    }
    const signal = kit.io.signal;
    // Every wait shares the one timeout, as kubectl's does: they run at once.
    await Promise.all(
      refs.map(async (ref) => {
        const progress = new TransitionProgress(
          refs.length === 1 ? kit.io.stderr : { write: () => true },
          `vcluster ${ref.namespace}/${ref.name}`,
        );
        try {
          await waitUntil(client, ref, condition, {
            timeoutMs,
            ...(signal ? { signal } : {}),
            onProgress: (v) => progress.observe(v ? phaseText(v) : "Deleted", v?.status?.message ?? ""),
          });
        } finally {
          progress.finish();
        }
        kit.io.stdout.write(`vcluster/${ref.name} ${condition.done}\n`);
      }),
    );
  });
}
