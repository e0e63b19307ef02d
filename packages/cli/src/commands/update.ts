import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { UpdateVClusterRequestSchema, VClusterSpecSchema } from "@open-vcluster/api";
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
import { applyLabelChanges, parseLabelFlags } from "../spec/labels-flag.js";
import { createRequestFromDocument, maskPaths, readDocument } from "../spec/spec-file.js";
import { addSpecOptions, applySpecFlags } from "../spec/spec-flags.js";
import { waitForVCluster } from "../wait/wait-for.js";
import { reportDryRun } from "./dry-run.js";
import { type CommandKit, reportVCluster } from "./kit.js";

interface UpdateFlags extends OutputFlags, WaitFlags, DryRunFlags {
  namespace?: string;
  filename?: string;
  label?: string[];
}

export function registerUpdate(program: Command, kit: CommandKit): void {
  const command = program
    .command("update")
    .description("change a vcluster's spec and labels; only the fields given change")
    .argument("<name>", "vcluster name")
    .addOption(namespaceOption())
    .option("-f, --filename <file>", "VClusterSpec (or { spec, labels }) as YAML/JSON; the fields it sets are updated")
    .option("--label <key=value|key->", "set a label, or remove it with key- (repeatable)", collect)
    .addOption(outputOption());
  addSpecOptions(command, { negatable: true });
  addDryRunOption(command);
  addWaitOptions(command, "the update is done (Running)");
  examples(command, [
    "vcluster-api update dev --kubernetes-version 1.35.0 --wait",
    "vcluster-api update dev --memory-limit 8Gi --label tier=gold --label legacy-",
    "vcluster-api update dev --no-enable-network-policies",
    "vcluster-api update dev -f spec-patch.yaml",
  ]);
  command.action(async (name: string, flags: UpdateFlags & Record<string, unknown>, cmd: Command) => {
    const session = kit.session(cmd);
    const namespace = await session.namespace(flags.namespace);
    const request = create(UpdateVClusterRequestSchema, { name, namespace, spec: create(VClusterSpecSchema) });
    const paths: string[] = [];
    let fileLabels: Record<string, string> | undefined;
    if (flags.filename) {
      const document = await readDocument(flags.filename, kit.io.stdin);
      const fromFile = createRequestFromDocument(document, flags.filename);
      const specDocument = fromFile.spec && "spec" in document ? document.spec : document;
      request.spec = fromFile.spec ?? create(VClusterSpecSchema);
      if (specDocument && typeof specDocument === "object" && !Array.isArray(specDocument)) {
        paths.push(...maskPaths(VClusterSpecSchema, specDocument, "spec").filter((path) => path !== "spec.name"));
      }
      if ("labels" in document) fileLabels = fromFile.labels;
    }
    const flagged = await applySpecFlags(flags, request.spec);
    paths.push(...flagged.paths.filter((path) => !paths.includes(path)));
    const labelChanges = parseLabelFlags(flags.label, true);
    const client = await session.client();
    if (fileLabels || flags.label?.length) {
      // Labels are replaced as a whole by the API; --label edits the current set instead.
      let current = fileLabels;
      if (!current) current = (await client.vclusters.getVCluster({ name, namespace })).vcluster?.labels ?? {};
      request.labels = applyLabelChanges(current, labelChanges);
      paths.push("labels");
    }
    if (paths.length === 0) throw new UsageError("nothing to update: give spec flags, --label or -f");
    request.updateMask = create(FieldMaskSchema, { paths });
    const timeoutMs = waitTimeoutMs(flags);
    if (flags.dryRun) {
      await client.vclusters.getVCluster({ name, namespace });
      const summary = `vcluster ${namespace}/${name} would be updated (${paths.join(", ")})`;
      return reportDryRun(kit.io, flags.output, summary, UpdateVClusterRequestSchema, request);
    }
    const { vcluster } = await client.vclusters.updateVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    if (!flags.wait) return reportVCluster(kit.io, flags.output, vcluster, "updated");
    const settings = { timeoutMs, progress: kit.io.stderr, ...(kit.io.signal ? { signal: kit.io.signal } : {}) };
    const done = await waitForVCluster(client, { name, namespace }, "running", settings, vcluster);
    reportVCluster(kit.io, flags.output, done ?? vcluster, "updated");
  });
}
