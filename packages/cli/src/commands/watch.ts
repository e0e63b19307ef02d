import { type VCluster, VClusterSchema, WatchEventType } from "@open-vcluster/api";
import type { ConnectionStatus, WatchEvent } from "@open-vcluster/core";
import type { Command } from "commander";
import { allNamespacesOption, examples, namespaceOption, type OutputFlags, selectorOption } from "../command-kit.js";
import { parseDuration } from "../duration.js";
import { isHumanReadable, outputOption } from "../output/format.js";
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
  headers: boolean;
}

type Row = { type: WatchEventType; vcluster: VCluster };

function eventColumns(showNamespace: boolean, wide: boolean): Column<Row>[] {
  const columns = visibleColumns(vclusterColumns(showNamespace), wide);
  return [
    { header: "EVENT", minWidth: "MODIFIED".length, value: (row) => WatchEventType[row.type] ?? String(row.type) },
    ...columns.map((column) => ({
      ...column,
      value: (row: Row, now: Date) => column.value(row.vcluster, now),
    })),
  ];
}

interface EventPrinter {
  event(event: WatchEvent): void;
  /** The initial state is complete (the first bookmark), or the watch ended. */
  flush(): void;
}

/**
 * Each event as it arrives: table rows, JSON lines, or YAML documents. A table holds back the
 * initial state until it is complete, so the header's widths fit every row it starts with.
 */
function eventPrinter(kit: CommandKit, flags: WatchFlags, showNamespace: boolean): EventPrinter {
  const { output } = flags;
  if (!isHumanReadable(output)) {
    return {
      event(event) {
        const value = {
          type: WatchEventType[event.type] ?? String(event.type),
          resourceVersion: event.resourceVersion,
          vcluster: messageJson(VClusterSchema, event.vcluster),
        };
        kit.io.stdout.write(output === "yaml" ? `---\n${renderYaml(value)}` : renderJsonLine(value));
      },
      flush() {},
    };
  }
  const table = new StreamingTable(eventColumns(showNamespace, output === "wide"), {
    noHeaders: flags.headers === false,
  });
  const pending: Row[] = [];
  return {
    event(event) {
      if (table.started) kit.io.stdout.write(table.row(event, new Date()));
      else pending.push(event);
    },
    flush() {
      if (table.started || pending.length === 0) return;
      kit.io.stdout.write(table.start(pending.splice(0), new Date()));
    },
  };
}

/** Says on stderr when the stream is lost and when it is back; the first connection is silent. */
function connectionReporter(kit: CommandKit): (status: ConnectionStatus, error?: Error) => void {
  let wasConnected = false;
  let lost = false;
  return (status, error) => {
    if (status === "connected") {
      if (lost) kit.io.stderr.write("watch: connection back, resuming where it left off\n");
      wasConnected = true;
      lost = false;
    } else if (status === "reconnecting" && wasConnected && !lost) {
      lost = true;
      const why = error ? ` (${(error as { rawMessage?: string }).rawMessage || error.message})` : "";
      kit.io.stderr.write(`watch: connection lost${why}; reconnecting…\n`);
    }
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
    .option("--no-headers", "print table rows without the header line")
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
    const print = eventPrinter(kit, flags, namespace === "");
    const watch = client.watch(
      { name: name ?? "", namespace, labelSelector: flags.selector ?? "" },
      {
        ...(flags.resourceVersion ? { resourceVersion: flags.resourceVersion } : {}),
        onStatus: connectionReporter(kit),
        onBookmark: () => print.flush(),
      },
    );
    // Interrupting or running out of time ends the watch normally: it is how a watch is meant to stop.
    const stop = () => watch.close();
    kit.io.signal?.addEventListener("abort", stop, { once: true });
    if (kit.io.signal?.aborted) stop();
    const timer = timeoutMs === undefined ? undefined : setTimeout(stop, timeoutMs);
    try {
      for await (const event of watch) print.event(event);
    } finally {
      print.flush();
      if (timer) clearTimeout(timer);
      kit.io.signal?.removeEventListener("abort", stop);
    }
  });
}
