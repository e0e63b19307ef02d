import { create } from "@bufbuild/protobuf";
import { ScaleVClusterRequestSchema } from "@open-vcluster/api";
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
import { UsageError } from "../errors.js";
import { outputOption } from "../output/format.js";
import { addSpecOptions, applySpecFlags } from "../spec/spec-flags.js";
import { waitForVCluster } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import { type CommandKit, reportVCluster } from "./kit.js";

interface ScaleFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
}

export function registerScale(program: Command, kit: CommandKit): void {
  const command = program
    .command("scale")
    .description("resize a running vcluster's control plane (replicas, CPU, memory), like resizing a VM")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .addOption(outputOption());
  addSpecOptions(command, { scaleOnly: true });
  addDryRunOption(command);
  addWaitOptions(command, "the vcluster is Running again");
  examples(command, [
    "vcluster-api scale dev --cpu-request 1 --memory-limit 8Gi --wait",
    "vcluster-api scale dev -n team-a --replicas 3",
  ]);
  command.action(async (name: string, flags: ScaleFlags & Record<string, unknown>, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const { spec, paths } = await applySpecFlags(flags);
    if (paths.length === 0) throw new UsageError("nothing to scale: give --replicas or a resource flag");
    const timeoutMs = waitTimeoutMs(flags);
    const client = await session.client();
    const request = create(ScaleVClusterRequestSchema, { name, namespace, replicas: spec.replicas });
    if (spec.resources) request.resources = spec.resources;
    if (flags.dryRun) {
      await client.vclusters.getVCluster({ name, namespace });
      const summary = `vcluster ${namespace}/${name} would be scaled (${paths.join(", ")})`;
      return reportDryRun(kit.io, flags.output, summary, ScaleVClusterRequestSchema, request);
    }
    const { vcluster } = await client.vclusters.scaleVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, "scaling");
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const done = await waitForVCluster(client, { name, namespace }, "running", settings, vcluster);
    reportVCluster(kit.io, flags.output, done ?? vcluster, "scaled");
  });
}
