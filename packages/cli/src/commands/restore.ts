import { create } from "@bufbuild/protobuf";
import { RestoreVClusterRequestSchema } from "@open-vcluster/api";
import type { Command } from "commander";
import {
  addDryRunOption,
  addWaitOptions,
  type DryRunFlags,
  examples,
  namespaceOption,
  type OutputFlags,
  type WaitFlags,
  waitTimeoutMs,
} from "../command-kit.js";
import { outputOption } from "../output/format.js";
import { waitForVCluster } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import { type CommandKit, reportVCluster } from "./kit.js";
import { findSnapshot } from "./snapshot-lookup.js";

interface RestoreFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  snapshot: string;
  newName?: string;
  newNamespace?: string;
  restoreWorkloads?: boolean;
}

export function registerRestore(program: Command, kit: CommandKit): void {
  const command = program
    .command("restore")
    .description("restore a vcluster from a ready snapshot, in place or into a new vcluster")
    .argument("<name>", "vcluster the snapshot was taken of")
    .addOption(namespaceOption())
    .requiredOption("--snapshot <snapshot>", "snapshot name or id")
    .option("--new-name <name>", "restore into a new vcluster with this name instead of in place")
    .option("--new-namespace <namespace>", "namespace of the new vcluster (default: the snapshot's)")
    .option("--restore-workloads", "also restore workload state")
    .addOption(outputOption());
  addDryRunOption(command);
  addWaitOptions(command, "the restored vcluster is Running");
  examples(command, [
    "vcluster-api restore dev --snapshot before-upgrade --wait",
    "vcluster-api restore dev --snapshot before-upgrade --new-name dev-copy --new-namespace sandbox",
  ]);
  command.action(async (name: string, flags: RestoreFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const timeoutMs = waitTimeoutMs(flags);
    const client = await session.client();
    const snapshot = await findSnapshot(client, flags.snapshot, namespace);
    const request = create(RestoreVClusterRequestSchema, {
      name,
      namespace,
      snapshotId: snapshot.id,
      createNew: Boolean(flags.newName),
      newName: flags.newName ?? "",
      newNamespace: flags.newNamespace ?? "",
      restoreWorkloads: flags.restoreWorkloads === true,
    });
    if (flags.dryRun) {
      const into = flags.newName ? ` into ${flags.newNamespace || snapshot.namespace}/${flags.newName}` : " in place";
      const summary = `vcluster ${namespace}/${name} would be restored from ${snapshot.name}${into}`;
      return reportDryRun(kit.io, flags.output, summary, RestoreVClusterRequestSchema, request);
    }
    const { vcluster } = await client.vclusters.restoreVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, `restoring from ${snapshot.name}`);
    const ref = { name: vcluster.name, namespace: vcluster.namespace };
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const done = await waitForVCluster(client, ref, "running", settings, vcluster);
    reportVCluster(kit.io, flags.output, done ?? vcluster, `restored from ${snapshot.name}`);
  });
}
