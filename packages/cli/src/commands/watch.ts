import { type VCluster, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import type { WatchEvent } from "@open-vcluster/core";
import type { Command } from "commander";
import { allNamespacesOption, examples, namespaceOption, type OutputFlags, selectorOption } from "../command-kit.js";
import { parseDuration } from "../duration.js";
import { outputOption } from "../output/format.js";
import { messageJson, renderJsonLine, renderYaml } from "../output/structured.js";
import { type Column, StreamingTable, visibleColumns } from "../output/table.js";
import { vclusterColumns } from "../output/vcluster-columns.js";
import type { CommandKit } from "./kit.js";

interface WatchFlags extends OutputFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  resourceVersion?: string;
  timeout?: string;
}

type Row = { type: WatchEventType; vcluster: VCluster };

function eventColumns(showNamespace: boolean, wide: boolean): Column<Row>[] {
  const columns = visibleColumns(vclusterColumns(showNamespace), wide);
  return [
    { header: "EVENT", value: (row) => WatchEventType[row.type] ?? String(row.type) },
    ...columns.map((column) => ({
      header: column.header,
      value: (row: Row, now: Date) => column.value(row.vcluster, now),
    })),
  ];
}

/** Each event as it arrives: table rows, JSON lines, or YAML documents. */
function eventPrinter(kit: CommandKit, flags: WatchFlags, showNamespace: boolean): (event: WatchEvent) => void {
  const { output } = flags;
  if (output === "json" || output === "yaml") {
    return (event) => {
      const value = {
        type: WatchEventType[event.type] ?? String(event.type),
        resourceVersion: event.resourceVersion,
        vcluster: messageJson(VClusterSchema, event.vcluster),
      };
      kit.io.stdout.write(output === "json" ? renderJsonLine(value) : `---\n${renderYaml(value)}`);
    };
  }
  const table = new StreamingTable(eventColumns(showNamespace, output === "wide"));
  let headed = false;
  return (event) => {
    const now = new Date();
    if (!headed) kit.io.stdout.write(table.header(event, now));
    headed = true;
    kit.io.stdout.write(table.row(event, now));
  };
}

export function registerWatch(program: Command, kit: CommandKit): void {
  const command = program
    .command("watch")
    .description("stream vcluster changes (the current state first, as ADDED) until interrupted")
    .argument("[name]", "only this vcluster")
    .addOption(namespaceOption())
    .addOption(allNamespacesOption())
    .addOption(selectorOption())
    .option("--resource-version <version>", "replay what happened after this version instead of the current state")
    .option("--timeout <duration>", "stop watching after this long (exit 0)")
    .addOption(outputOption());
  examples(command, [
    "vcluster-api watch",
    "vcluster-api watch dev -n team-a",
    "vcluster-api watch -A -l env=prod -o json | jq -r '[.type, .vcluster.name, .vcluster.status.phase] | @tsv'",
  ]);
  command.action(async (name: string | undefined, flags: WatchFlags, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = name
      ? await session.namespace(flags.namespace)
      : await session.listNamespace(flags.namespace, flags.allNamespaces);
    const timeoutMs = flags.timeout ? parseDuration(flags.timeout, "--timeout") : undefined;
    const client = await session.client();
    const watch = client.watch(
      { name: name ?? "", namespace, labelSelector: flags.selector ?? "" },
      flags.resourceVersion ? { resourceVersion: flags.resourceVersion } : {},
    );
    // Interrupting or running out of time ends the watch normally: it is how a watch is meant to stop.
    const stop = () => watch.close();
    kit.io.signal?.addEventListener("abort", stop, { once: true });
    if (kit.io.signal?.aborted) stop();
    const timer = timeoutMs === undefined ? undefined : setTimeout(stop, timeoutMs);
    const print = eventPrinter(kit, flags, namespace === "");
    try {
      for await (const event of watch) print(event);
    } finally {
      if (timer) clearTimeout(timer);
      kit.io.signal?.removeEventListener("abort", stop);
    }
  });
}
