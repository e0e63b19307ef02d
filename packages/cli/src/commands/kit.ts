import { type VCluster, VClusterSchema } from "@open-vcluster/api";
import type { CliIo } from "../io.js";
import { isHumanReadable, type OutputFormat } from "../output/format.js";
import { printOne } from "../output/print.js";
import { vclusterColumns } from "../output/vcluster-columns.js";
import type { SessionFactory } from "../session.js";

/** What every command registration needs. */
export interface CommandKit {
  io: CliIo;
  session: SessionFactory;
}

/**
 * The result of a mutation: kubectl's one-line confirmation for people, the whole object for
 * `-o json|yaml` so scripts need no second call.
 */
export function reportVCluster(io: CliIo, format: OutputFormat, vcluster: VCluster, verb: string): void {
  if (!isHumanReadable(format)) {
    printOne(
      io.stdout,
      { schema: VClusterSchema, kind: "vcluster", columns: vclusterColumns(false), format },
      vcluster,
    );
    return;
  }
  io.stdout.write(`vcluster ${vcluster.namespace}/${vcluster.name} ${verb}\n`);
}
