import { create } from "@bufbuild/protobuf";
import { CreateVClusterRequestSchema, VClusterSpecSchema } from "@open-vcluster/api";
import type { Command } from "commander";
import {
  addDryRunOption,
  addWaitOptions,
  collect,
  type DryRunFlags,
  examples,
  namespaceOption,
  type OutputFlags,
  type WaitFlags,
  waitTimeoutMs,
} from "../command-kit.js";
import { UsageError } from "../errors.js";
import { outputOption } from "../output/format.js";
import { parseLabelFlags } from "../spec/labels-flag.js";
import { createRequestFromDocument, readDocument } from "../spec/spec-file.js";
import { addSpecOptions, applySpecFlags } from "../spec/spec-flags.js";
import { waitForVCluster } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import { type CommandKit, reportVCluster } from "./kit.js";

interface CreateFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  filename?: string;
  label?: string[];
}

export function registerCreate(program: Command, kit: CommandKit): void {
  const command = program
    .command("create")
    .description("create a vcluster")
    .argument("[name]", "vcluster name (DNS-1123 label, at most 53 characters); may come from -f")
    .addOption(namespaceOption())
    .option(
      "-f, --filename <file>",
      "CreateVClusterRequest or VClusterSpec as YAML/JSON (proto JSON form); - for stdin",
    )
    .option("--label <key=value>", "label to set (repeatable)", collect)
    .addOption(outputOption());
  addSpecOptions(command);
  addDryRunOption(command);
  addWaitOptions(command, "the vcluster is Running");
  examples(command, [
    "vcluster-api create dev",
    "vcluster-api create dev -n team-a --kubernetes-version 1.34.2 --cpu-request 500m --memory-limit 8Gi --wait",
    "vcluster-api create ci-42 --label team=ci --label ttl=1h -o json",
    "vcluster-api create -f vcluster.yaml --wait --timeout 5m",
  ]);
  command.action(async (name: string | undefined, flags: CreateFlags & Record<string, unknown>, cmd: Command) => {
    const session = kit.session(cmd);
    const request = flags.filename
      ? createRequestFromDocument(await readDocument(flags.filename, kit.io.stdin), flags.filename)
      : create(CreateVClusterRequestSchema);
    request.spec ??= create(VClusterSpecSchema);
    await applySpecFlags(flags, request.spec);
    if (name) request.name = name;
    if (!request.name) throw new UsageError("a vcluster name is required (argument or `name` in the -f file)");
    if (flags.namespace || !request.namespace) request.namespace = await session.namespace(flags.namespace);
    request.labels = { ...request.labels, ...parseLabelFlags(flags.label, false).set };
    const timeoutMs = waitTimeoutMs(flags);
    if (flags.dryRun) {
      const summary = `vcluster ${request.namespace}/${request.name} would be created`;
      return reportDryRun(kit.io, flags.output, summary, CreateVClusterRequestSchema, request);
    }
    const client = await session.client();
    const { vcluster } = await client.vclusters.createVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, "created");
    const ref = { name: vcluster.name, namespace: vcluster.namespace };
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const running = await waitForVCluster(client, ref, "running", settings, vcluster);
    reportVCluster(kit.io, flags.output, running ?? vcluster, "created and running");
  });
}
