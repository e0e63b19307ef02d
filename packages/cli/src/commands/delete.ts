import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DeleteVClusterResponse, VCluster } from "@open-vcluster/api";
import { isNotFound } from "@open-vcluster/core";
import type { Command } from "commander";
import {
  addDryRunOption,
  addWaitOptions,
  allNamespacesOption,
  type DryRunFlags,
  examples,
  namespaceOption,
  selectorOption,
  type WaitFlags,
  waitTimeoutMs,
} from "../command-kit.js";
import { confirm } from "../confirm.js";
import { parseDuration } from "../duration.js";
import { CliError, UsageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { Session } from "../session.js";
import { graceCountdown } from "../wait/countdown.js";
import { waitForVCluster } from "../wait/wait-for.js";
import type { CommandKit } from "./kit.js";

interface DeleteFlags extends WaitFlags, DryRunFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  all?: boolean;
  yes?: boolean;
  force?: boolean;
  deleteSnapshots?: boolean;
  gracePeriod: string;
  ignoreNotFound?: boolean;
}

interface Target {
  name: string;
  namespace: string;
}

const DEFAULT_GRACE_PERIOD = "30s";

/** Names on the command line, or every vcluster a selector or --all matches (listed first, then confirmed). */
async function targetsOf(session: Session, names: string[], flags: DeleteFlags): Promise<Target[]> {
  const bulk = flags.all === true || flags.selector !== undefined;
  if (bulk && names.length > 0) throw new UsageError("give vcluster names, or -l / --all, not both");
  if (!bulk && names.length === 0) throw new UsageError("give vcluster names, -l SELECTOR or --all");
  if (flags.allNamespaces && !bulk) throw new UsageError("-A needs -l or --all");
  if (!bulk) {
    const namespace = await session.namespace(flags.namespace);
    return names.map((name) => ({ name, namespace }));
  }
  const client = await session.client();
  const namespace = await session.listNamespace(flags.namespace, flags.allNamespaces);
  const found: VCluster[] = [];
  for await (const vcluster of client.paginateVClusters({ namespace, labelSelector: flags.selector ?? "" })) {
    found.push(vcluster);
  }
  return found.map((v) => ({ name: v.name, namespace: v.namespace }));
}

export function registerDelete(program: Command, kit: CommandKit): void {
  const command = program
    .command("delete")
    .alias("rm")
    .description("delete vclusters, by name or every one a selector (or --all) matches")
    .argument("[names...]", "vcluster names")
    .addOption(namespaceOption())
    .addOption(allNamespacesOption())
    .addOption(selectorOption())
    .option("--all", "every vcluster of the namespace (with -A: of every namespace)")
    .option("-y, --yes", "do not ask before deleting what -l or --all matched")
    .option("--force", "delete even while another operation runs, skipping the grace period")
    .option("--delete-snapshots", "also delete the vcluster's snapshots")
    .option(
      "--grace-period <duration>",
      "time for workloads to stop before the control plane goes",
      DEFAULT_GRACE_PERIOD,
    )
    .option("--ignore-not-found", "treat a missing vcluster as deleted (exit 0)");
  addDryRunOption(command);
  addWaitOptions(command, "the vclusters are gone, counting down the grace period");
  examples(command, [
    "vcluster-api delete dev",
    "vcluster-api delete dev staging -n team-a --wait",
    "vcluster-api delete -l team=ci --yes",
    "vcluster-api delete --all -n sandbox --dry-run",
    "vcluster-api delete ci-42 --force --delete-snapshots --ignore-not-found",
  ]);
  command.action(async (names: string[], flags: DeleteFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const timeoutMs = waitTimeoutMs(flags);
    const gracePeriodSeconds = flags.force ? 0 : Math.ceil(parseDuration(flags.gracePeriod, "--grace-period") / 1000);
    const targets = await targetsOf(session, names, flags);
    const client = await session.client();
    const bulk = names.length === 0;
    if (bulk && targets.length === 0) {
      kit.io.stderr.write("No vclusters matched; nothing to delete.\n");
      return;
    }
    const list = targets.map((t) => `${t.namespace}/${t.name}`);
    if (flags.dryRun) {
      for (const target of targets) {
        try {
          await client.vclusters.getVCluster({ name: target.name, namespace: target.namespace });
        } catch (error) {
          if (flags.ignoreNotFound && isNotFound(error)) continue;
          throw error;
        }
        kit.io.stdout.write(`vcluster ${target.namespace}/${target.name} would be deleted (dry run)\n`);
      }
      kit.io.stderr.write("dry run: nothing was deleted (the API has no server-side dry run; only reads were sent)\n");
      return;
    }
    if (bulk && !flags.yes) {
      kit.io.stderr.write(
        `These ${targets.length} vclusters will be deleted:\n${list.map((t) => `  ${t}\n`).join("")}`,
      );
      if (!(await confirm(kit.io, `Delete ${targets.length} vcluster${targets.length === 1 ? "" : "s"}?`))) {
        throw new CliError("deletion cancelled (nothing was deleted; --yes skips this question)", ExitCode.general);
      }
    }
    const requested: { target: Target; requestedAt: Date }[] = [];
    for (const target of targets) {
      let response: DeleteVClusterResponse;
      try {
        response = await client.vclusters.deleteVCluster({
          ...target,
          force: flags.force === true,
          deleteSnapshots: flags.deleteSnapshots === true,
          gracePeriodSeconds,
        });
      } catch (error) {
        if ((flags.ignoreNotFound || bulk) && isNotFound(error)) continue;
        throw error;
      }
      requested.push({ target, requestedAt: response.deleteTime ? timestampDate(response.deleteTime) : new Date() });
      if (!flags.wait) kit.io.stdout.write(`vcluster ${target.namespace}/${target.name} deletion requested\n`);
    }
    if (!flags.wait) return;
    // All deletions run at once; waiting for them together takes as long as the slowest.
    await Promise.all(
      requested.map(async ({ target, requestedAt }) => {
        const settings = {
          timeoutMs,
          progress: kit.io.stderr,
          ...(gracePeriodSeconds > 0 ? { ticker: graceCountdown(requestedAt, gracePeriodSeconds) } : {}),
          ...(kit.io.signal ? { signal: kit.io.signal } : {}),
        };
        await waitForVCluster(client, target, "deleted", settings);
        kit.io.stdout.write(`vcluster ${target.namespace}/${target.name} deleted\n`);
      }),
    );
  });
}
