import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Condition } from "@open-vcluster/api";
import {
  type Snapshot,
  SnapshotStatus,
  type VCluster,
  type VClusterEvent,
  VClusterSpecSchema,
} from "@open-vcluster/api";
import type { VClusterApiClient } from "@open-vcluster/core";
import type { Command } from "commander";
import { stringify } from "yaml";
import { examples, namespaceOption } from "../command-kit.js";
import { age, humanBytes, labelsText, titleCase } from "../output/humanize.js";
import { humanizePhases } from "../output/phase-names.js";
import { endpointIsSimulated } from "../output/simulated.js";
import { messageJson } from "../output/structured.js";
import { type Column, renderTable } from "../output/table.js";
import { phaseText } from "../output/vcluster-columns.js";
import type { CommandKit } from "./kit.js";

function when(time: Parameters<typeof timestampDate>[0] | undefined, now: Date): string {
  if (!time) return "<none>";
  return `${timestampDate(time).toISOString()} (${age(time, now)} ago)`;
}

/** Byte counts in binary units; other quantities (e.g. "4Gi") as the server wrote them. */
function quantity(text: string): string {
  if (!text) return "-";
  return /^\d+$/.test(text) ? humanBytes(BigInt(text)) : text;
}

function indent(text: string, by = "  "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `${by}${line}`)
    .join("\n");
}

function fields(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}`).join("\n");
}

const conditionColumns: Column<Condition>[] = [
  { header: "TYPE", value: (c) => c.type },
  { header: "STATUS", value: (c) => c.status },
  { header: "REASON", value: (c) => c.reason || "-" },
  { header: "AGE", value: (c, now) => age(c.lastTransitionTime, now) },
  { header: "MESSAGE", value: (c) => humanizePhases(c.message) || "-" },
];

const snapshotColumns: Column<Snapshot>[] = [
  { header: "NAME", value: (s) => s.name },
  { header: "STATUS", value: (s) => titleCase(SnapshotStatus[s.status]) },
  { header: "SIZE", value: (s) => humanBytes(s.sizeBytes) },
  { header: "AGE", value: (s, now) => age(s.createTime, now) },
];

const eventColumns: Column<VClusterEvent>[] = [
  { header: "TYPE", value: (e) => e.type },
  { header: "REASON", value: (e) => e.reason },
  { header: "AGE", value: (e, now) => age(e.time, now) },
  { header: "FROM", value: (e) => e.actor || "server" },
  { header: "MESSAGE", value: (e) => humanizePhases(e.message) },
];

/** How many of the newest events `describe` shows, as kubectl shows the recent ones. */
const RECENT_EVENTS = 15;

/** kubectl describe's layout: a block of facts, then indented sections, then tables. */
export function describeVCluster(
  vcluster: VCluster,
  snapshots: Snapshot[],
  events: VClusterEvent[] | string,
  now: Date,
): string {
  const status = vcluster.status;
  const usage = status?.currentUsage;
  const endpoint = status?.apiServerEndpoint
    ? `${status.apiServerEndpoint}${endpointIsSimulated(vcluster) ? " (simulated: no real API server answers)" : ""}`
    : "<none>";
  const head = fields([
    ["Name", vcluster.name],
    ["Namespace", vcluster.namespace],
    ["Id", vcluster.id],
    ["Labels", labelsText(vcluster.labels)],
    ["Owner", vcluster.owner || "<none>"],
    ["Project", vcluster.project || "<none>"],
    ["Created", when(vcluster.createTime, now)],
    ["Updated", when(vcluster.updateTime, now)],
    ...(vcluster.deleteTime ? ([["Deletion requested", when(vcluster.deleteTime, now)]] as [string, string][]) : []),
  ]);
  const statusBlock = fields([
    ["Phase", phaseText(vcluster)],
    ["Reason", status?.reason || "<none>"],
    ["Message", humanizePhases(status?.message ?? "") || "<none>"],
    ["Endpoint", endpoint],
    ["Replicas", `${status?.readyReplicas ?? 0}/${status?.totalReplicas ?? 0} ready`],
    ["Last ready", when(status?.readyTime, now)],
    ["Observed generation", String(status?.observedGeneration ?? 0)],
    [
      "Helm release",
      status?.helmRelease
        ? `${status.helmRelease.name} chart ${status.helmRelease.chartVersion} revision ${status.helmRelease.revision} (${status.helmRelease.status})`
        : "<none>",
    ],
  ]);
  const usageBlock = usage
    ? fields([
        ["CPU", usage.cpuUsage || "-"],
        ["Memory", quantity(usage.memoryUsage)],
        ["Storage", quantity(usage.storageUsage)],
        ["Pods", String(usage.podCount)],
        ["Namespaces", String(usage.namespaceCount)],
        ["Services", String(usage.serviceCount)],
      ])
    : "<none>";
  const spec = vcluster.spec ? stringify(messageJson(VClusterSpecSchema, vcluster.spec)) : "<none>";
  const conditions = status?.conditions.length ? renderTable(conditionColumns, status.conditions, now) : "<none>";
  const snapshotText = snapshots.length ? renderTable(snapshotColumns, snapshots, now) : "<none>";
  return `${[
    head,
    `Status:\n${indent(statusBlock)}`,
    `Spec:\n${indent(spec)}`,
    `Usage:\n${indent(usageBlock)}`,
    `Conditions:\n${indent(conditions)}`,
    `Snapshots:\n${indent(snapshotText)}`,
    `Events:\n${indent(typeof events === "string" ? events : events.length ? renderTable(eventColumns, events, now) : "<none>")}`,
  ].join("\n")}\n`;
}

/** The newest events, or why there are none to show (a server without ListVClusterEvents). */
async function recentEvents(
  client: VClusterApiClient,
  name: string,
  namespace: string,
): Promise<VClusterEvent[] | string> {
  try {
    return (await client.vclusters.listVClusterEvents({ name, namespace, limit: RECENT_EVENTS })).events;
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.Unimplemented) return "<the server keeps no events>";
    throw error;
  }
}

export function registerDescribe(program: Command, kit: CommandKit): void {
  const command = program
    .command("describe")
    .description("show a vcluster in detail: spec, status, usage, conditions, snapshots and recent events")
    .argument("<names...>", "vcluster names")
    .addOption(namespaceOption());
  examples(command, ["vcluster-api describe dev", "vcluster-api describe dev staging -n team-a"]);
  command.action(async (names: string[], flags: { namespace?: string }, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const client = await session.client();
    const blocks: string[] = [];
    for (const name of names) {
      const { vcluster } = await client.vclusters.getVCluster({ name, namespace });
      if (!vcluster) throw new Error("the server returned no vcluster");
      const snapshots: Snapshot[] = [];
      for await (const snapshot of client.paginateSnapshots({ namespace, vclusterName: name }))
        snapshots.push(snapshot);
      blocks.push(describeVCluster(vcluster, snapshots, await recentEvents(client, name, namespace), new Date()));
    }
    kit.io.stdout.write(blocks.join("\n"));
  });
}
