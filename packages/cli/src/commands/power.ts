import { create } from "@bufbuild/protobuf";
import { ResumeVClusterRequestSchema, SuspendVClusterRequestSchema } from "@open-vcluster/api";
import { type Command, Option } from "commander";
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
import { parseDuration } from "../duration.js";
import { outputOption } from "../output/format.js";
import { waitForVCluster } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import { type CommandKit, reportVCluster } from "./kit.js";

interface SuspendFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  drainWorkloads?: boolean;
  drain?: boolean;
  drainTimeout?: string;
  createSnapshot?: boolean;
  snapshot?: boolean;
  snapshotName?: string;
}

/** `suspend` and `resume`: powering a vcluster's control plane off and on, as with a VM. */
export function registerSuspend(program: Command, kit: CommandKit): void {
  const command = program
    .command("suspend")
    .alias("pause")
    .description("suspend a running vcluster (scale its control plane to zero)")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .option("--drain-workloads", "evict workloads before the control plane stops")
    .addOption(new Option("--drain").hideHelp())
    .option("--drain-timeout <duration>", "upper bound for draining (e.g. 2m)")
    .option("--create-snapshot", "take a snapshot first")
    .addOption(new Option("--snapshot").hideHelp())
    .option("--snapshot-name <name>", "name of that snapshot (generated when empty)")
    .addOption(outputOption());
  addDryRunOption(command);
  addWaitOptions(command, "the vcluster is Suspended");
  examples(command, [
    "vcluster-api suspend dev --wait",
    "vcluster-api suspend dev --drain-workloads --create-snapshot --snapshot-name before-pause",
  ]);
  command.action(async (name: string, flags: SuspendFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const timeoutMs = waitTimeoutMs(flags);
    const drainTimeoutSeconds = flags.drainTimeout
      ? Math.ceil(parseDuration(flags.drainTimeout, "--drain-timeout") / 1000)
      : 0;
    const client = await session.client();
    const request = create(SuspendVClusterRequestSchema, {
      name,
      namespace,
      drainWorkloads: flags.drainWorkloads === true || flags.drain === true,
      drainTimeoutSeconds,
      createSnapshot: flags.createSnapshot === true || flags.snapshot === true || Boolean(flags.snapshotName),
      snapshotName: flags.snapshotName ?? "",
    });
    if (flags.dryRun) {
      await client.vclusters.getVCluster({ name, namespace });
      const summary = `vcluster ${namespace}/${name} would be suspended`;
      return reportDryRun(kit.io, flags.output, summary, SuspendVClusterRequestSchema, request);
    }
    const { vcluster, snapshot } = await client.vclusters.suspendVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (snapshot && flags.output !== "json" && flags.output !== "yaml") {
      kit.io.stderr.write(`snapshot ${snapshot.namespace}/${snapshot.name} (${snapshot.id}) taken first\n`);
    }
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, "suspending");
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const done = await waitForVCluster(client, { name, namespace }, "suspended", settings, vcluster);
    reportVCluster(kit.io, flags.output, done ?? vcluster, "suspended");
  });
}

interface ResumeFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  reconcileWorkloads?: boolean;
}

export function registerResume(program: Command, kit: CommandKit): void {
  const command = program
    .command("resume")
    .description("resume a suspended vcluster")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .option("--reconcile-workloads", "reconcile workloads once the control plane is back")
    .addOption(outputOption());
  addDryRunOption(command);
  addWaitOptions(command, "the vcluster is Running");
  examples(command, ["vcluster-api resume dev --wait", "vcluster-api resume dev -n team-a --reconcile-workloads"]);
  command.action(async (name: string, flags: ResumeFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const timeoutMs = waitTimeoutMs(flags);
    const client = await session.client();
    const request = create(ResumeVClusterRequestSchema, {
      name,
      namespace,
      reconcileWorkloads: flags.reconcileWorkloads === true,
    });
    if (flags.dryRun) {
      await client.vclusters.getVCluster({ name, namespace });
      const summary = `vcluster ${namespace}/${name} would be resumed`;
      return reportDryRun(kit.io, flags.output, summary, ResumeVClusterRequestSchema, request);
    }
    const { vcluster } = await client.vclusters.resumeVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, "resuming");
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const done = await waitForVCluster(client, { name, namespace }, "running", settings, vcluster);
    reportVCluster(kit.io, flags.output, done ?? vcluster, "resumed");
  });
}
