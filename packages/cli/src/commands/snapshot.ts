import { create } from "@bufbuild/protobuf";
import { SnapshotSchema, SnapshotVClusterRequestSchema } from "@open-vcluster/api";
import { isNotFound } from "@open-vcluster/core";
import { type Command, Option } from "commander";
import {
  addDryRunOption,
  addListOutputOptions,
  addWaitOptions,
  allNamespacesOption,
  collect,
  type DryRunFlags,
  examples,
  hoursOf,
  integer,
  type ListOutputFlags,
  listPrintOptions,
  namespaceOption,
  type OutputFlags,
  selectorOption,
  type WaitFlags,
  waitTimeoutMs,
} from "../command-kit.js";
import { isHumanReadable, outputOption } from "../output/format.js";
import { printMany, printOne } from "../output/print.js";
import { snapshotColumns } from "../output/snapshot-columns.js";
import { parseLabelFlags } from "../spec/labels-flag.js";
import { waitForSnapshot } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import type { CommandKit } from "./kit.js";
import { findSnapshot } from "./snapshot-lookup.js";

const print = (format: OutputFlags["output"], showNamespace = false, list: Partial<ListOutputFlags> = {}) => ({
  schema: SnapshotSchema,
  kind: "snapshot",
  columns: snapshotColumns(showNamespace),
  format,
  ...listPrintOptions({
    headers: list.headers ?? true,
    output: format,
    ...(list.sortBy ? { sortBy: list.sortBy } : {}),
  }),
});

interface CreateFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  name?: string;
  snapshotName?: string;
  description?: string;
  retention?: string;
  label?: string[];
  includeWorkloads?: boolean;
}

function registerSnapshotCreate(group: Command, kit: CommandKit): void {
  const command = group
    .command("create")
    .description("take a snapshot of a running vcluster (backing store and configuration)")
    .argument("<vcluster>", "name of the vcluster")
    .addOption(namespaceOption())
    .option("--name <name>", "snapshot name (generated when empty)")
    .addOption(new Option("--snapshot-name <name>").hideHelp())
    .option("--description <text>", "free-form description")
    .option("--retention <duration>", "keep the snapshot this long (e.g. 72h); kept indefinitely when unset")
    .option("--label <key=value>", "label of the snapshot (repeatable)", collect)
    .option("--include-workloads", "also capture workload state")
    .addOption(outputOption());
  addDryRunOption(command);
  addWaitOptions(command, "the snapshot is Ready");
  examples(command, [
    "vcluster-api snapshot create dev --name before-upgrade --wait",
    "vcluster-api snapshot create dev -n team-a --retention 72h --label reason=nightly -o json",
  ]);
  command.action(async (vcluster: string, flags: CreateFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const retentionHours = flags.retention ? hoursOf(flags.retention, "--retention") : 0;
    const labels = parseLabelFlags(flags.label, false).set;
    const timeoutMs = waitTimeoutMs(flags);
    const client = await session.client();
    const request = create(SnapshotVClusterRequestSchema, {
      name: vcluster,
      namespace,
      snapshotName: flags.name ?? flags.snapshotName ?? "",
      description: flags.description ?? "",
      retentionHours,
      labels,
      includeWorkloads: flags.includeWorkloads === true,
    });
    if (flags.dryRun) {
      await client.vclusters.getVCluster({ name: vcluster, namespace });
      const summary = `snapshot of vcluster ${namespace}/${vcluster} would be taken`;
      return reportDryRun(kit.io, flags.output, summary, SnapshotVClusterRequestSchema, request);
    }
    const { snapshot } = await client.vclusters.snapshotVCluster(request);
    if (!snapshot) throw new Error("the server returned no snapshot");
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const result = flags.wait ? await waitForSnapshot(client, snapshot, settings) : snapshot;
    if (!isHumanReadable(flags.output)) return printOne(kit.io.stdout, print(flags.output), result);
    kit.io.stdout.write(
      `snapshot ${result.namespace}/${result.name} ${flags.wait ? "ready" : "requested"} (id ${result.id})\n`,
    );
  });
}

interface ListFlags extends ListOutputFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  vcluster?: string;
  pageSize?: number;
}

function registerSnapshotList(group: Command, kit: CommandKit): void {
  const command = group
    .command("list")
    .alias("ls")
    .description("list snapshots, newest first (every page)")
    .addOption(namespaceOption())
    .addOption(allNamespacesOption())
    .addOption(selectorOption())
    .option("--vcluster <name>", "only snapshots of this vcluster")
    .option("--page-size <n>", "snapshots fetched per request", integer("--page-size", { min: 1, max: 1000 }))
    .addOption(outputOption());
  addListOutputOptions(command);
  examples(command, ["vcluster-api snapshot list", "vcluster-api snapshot list --vcluster dev -n team-a -o wide"]);
  command.action(async (flags: ListFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.listNamespace(flags.namespace, flags.allNamespaces);
    const client = await session.client();
    const pages = client.paginateSnapshots(
      {
        namespace,
        vclusterName: flags.vcluster ?? "",
        labelSelector: flags.selector ?? "",
        pageSize: flags.pageSize ?? 0,
      },
      kit.io.signal ? { signal: kit.io.signal } : {},
    );
    const items = [];
    for await (const snapshot of pages) items.push(snapshot);
    printMany(kit.io.stdout, print(flags.output, namespace === "", flags), items, {
      emptyMessage: `No snapshots found${namespace ? ` in namespace ${namespace}` : ""}.`,
      errors: kit.io.stderr,
    });
  });
}

function registerSnapshotGet(group: Command, kit: CommandKit): void {
  const command = group
    .command("get")
    .description("show one snapshot, by name or id")
    .argument("<snapshot>", "snapshot name or id")
    .addOption(namespaceOption())
    .addOption(outputOption());
  examples(command, [
    "vcluster-api snapshot get before-upgrade",
    "vcluster-api snapshot get before-upgrade -n team-a -o yaml",
  ]);
  command.action(async (nameOrId: string, flags: OutputFlags & { namespace?: string }, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const snapshot = await findSnapshot(await session.client(), nameOrId, namespace);
    printOne(kit.io.stdout, print(flags.output), snapshot);
  });
}

interface DeleteFlags {
  namespace?: string;
  force?: boolean;
  ignoreNotFound?: boolean;
}

function registerSnapshotDelete(group: Command, kit: CommandKit): void {
  const command = group
    .command("delete")
    .alias("rm")
    .description("delete snapshots and their stored content")
    .argument("<snapshots...>", "snapshot names or ids")
    .addOption(namespaceOption())
    .option("--force", "delete even while the snapshot is still being taken")
    .option("--ignore-not-found", "treat a missing snapshot as deleted (exit 0)");
  examples(command, [
    "vcluster-api snapshot delete before-upgrade",
    "vcluster-api snapshot delete old-1 old-2 --ignore-not-found",
  ]);
  command.action(async (names: string[], flags: DeleteFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const client = await session.client();
    for (const nameOrId of names) {
      try {
        const snapshot = await findSnapshot(client, nameOrId, namespace);
        await client.snapshots.deleteSnapshot({ id: snapshot.id, force: flags.force === true });
        kit.io.stdout.write(`snapshot ${snapshot.namespace}/${snapshot.name} deleted\n`);
      } catch (error) {
        if (flags.ignoreNotFound && isNotFound(error)) continue;
        throw error;
      }
    }
  });
}

export function registerSnapshot(program: Command, kit: CommandKit): void {
  const group = program.command("snapshot").alias("snapshots").description("take, list, show and delete snapshots");
  registerSnapshotCreate(group, kit);
  registerSnapshotList(group, kit);
  registerSnapshotGet(group, kit);
  registerSnapshotDelete(group, kit);
  examples(group, ["vcluster-api snapshot create dev --wait", "vcluster-api snapshot list --vcluster dev"]);
}
