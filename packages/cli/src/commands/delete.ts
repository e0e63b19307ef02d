import { isNotFound } from "@open-vcluster/core";
import type { Command } from "commander";
import { addWaitOptions, examples, namespaceOption, type WaitFlags, waitTimeoutMs } from "../command-kit.js";
import { parseDuration } from "../duration.js";
import { waitForVCluster } from "../wait/wait-for.js";
import type { CommandKit } from "./kit.js";

interface DeleteFlags extends WaitFlags {
  namespace?: string;
  force?: boolean;
  deleteSnapshots?: boolean;
  gracePeriod?: string;
  ignoreNotFound?: boolean;
}

export function registerDelete(program: Command, kit: CommandKit): void {
  const command = program
    .command("delete")
    .alias("rm")
    .description("delete vclusters")
    .argument("<names...>", "vcluster names")
    .addOption(namespaceOption())
    .option("--force", "delete even while another operation runs, skipping the grace period")
    .option("--delete-snapshots", "also delete the vcluster's snapshots")
    .option("--grace-period <duration>", "time for workloads to stop before the control plane goes (e.g. 30s)")
    .option("--ignore-not-found", "treat a missing vcluster as deleted (exit 0)");
  addWaitOptions(command, "the vclusters are gone");
  examples(command, [
    "vcluster-api delete dev",
    "vcluster-api delete dev staging -n team-a --wait",
    "vcluster-api delete ci-42 --force --delete-snapshots --ignore-not-found",
  ]);
  command.action(async (names: string[], flags: DeleteFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const timeoutMs = waitTimeoutMs(flags);
    const gracePeriodSeconds = flags.gracePeriod
      ? Math.ceil(parseDuration(flags.gracePeriod, "--grace-period") / 1000)
      : 0;
    const client = await session.client();
    const requested: string[] = [];
    for (const name of names) {
      try {
        await client.vclusters.deleteVCluster({
          name,
          namespace,
          force: flags.force === true,
          deleteSnapshots: flags.deleteSnapshots === true,
          gracePeriodSeconds,
        });
      } catch (error) {
        if (flags.ignoreNotFound && isNotFound(error)) continue;
        throw error;
      }
      requested.push(name);
      if (!flags.wait) kit.io.stdout.write(`vcluster ${namespace}/${name} deletion requested\n`);
    }
    if (!flags.wait) return;
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    // All deletions run at once; waiting for them together takes as long as the slowest.
    await Promise.all(
      requested.map(async (name) => {
        await waitForVCluster(client, { name, namespace }, "deleted", settings);
        kit.io.stdout.write(`vcluster ${namespace}/${name} deleted\n`);
      }),
    );
  });
}
