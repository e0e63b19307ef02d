import { Phase, VClusterSchema } from "@open-vcluster/api";
import type { ListVClustersInit } from "@open-vcluster/core";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  addListOutputOptions,
  allNamespacesOption,
  examples,
  integer,
  type ListOutputFlags,
  listPrintOptions,
  namespaceOption,
  selectorOption,
} from "../command-kit.js";
import { outputOption } from "../output/format.js";
import { titleCase } from "../output/humanize.js";
import { printMany, printOne } from "../output/print.js";
import { vclusterColumns } from "../output/vcluster-columns.js";
import type { Session } from "../session.js";
import type { CommandKit } from "./kit.js";

interface ListFlags extends ListOutputFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  phase?: Phase[];
  owner?: string;
  project?: string;
  orderBy?: string;
  pageSize?: number;
}

const PHASE_NAMES = Object.keys(Phase).filter((key) => Number.isNaN(Number(key)) && key !== "UNSPECIFIED");

export function parsePhases(text: string, previous: Phase[] | undefined): Phase[] {
  const phases = text.split(",").map((name) => {
    const key = name
      .trim()
      .toUpperCase()
      .replace(/^PHASE_/, "");
    const phase = Phase[key as keyof typeof Phase];
    if (phase === undefined || key === "UNSPECIFIED") {
      throw new InvalidArgumentError(
        `unknown phase "${name}"; one of ${PHASE_NAMES.map((p) => titleCase(p)).join(", ")}`,
      );
    }
    return phase;
  });
  return [...(previous ?? []), ...phases];
}

function addListOptions(command: Command): Command {
  command
    .addOption(namespaceOption())
    .addOption(allNamespacesOption())
    .addOption(selectorOption())
    .option("--phase <phases>", "only these phases, comma-separated or repeated (e.g. Running,Error)", parsePhases)
    .option("--owner <subject>", "only vclusters of this owner")
    .option("--project <project>", "only vclusters of this project")
    .addOption(new Option("--order-by <order>", "sort order").choices(["name", "create_time", "-create_time"]))
    .option(
      "--page-size <n>",
      "vclusters fetched per request (every page is fetched)",
      integer("--page-size", { min: 1, max: 1000 }),
    )
    .addOption(outputOption());
  return addListOutputOptions(command);
}

/** Fetches every page: a CLI user asking for a list wants all of it. */
async function listAll(session: Session, kit: CommandKit, flags: ListFlags): Promise<void> {
  const namespace = await session.listNamespace(flags.namespace, flags.allNamespaces);
  const request: ListVClustersInit = {
    namespace,
    labelSelector: flags.selector ?? "",
    phases: flags.phase ?? [],
    owner: flags.owner ?? "",
    project: flags.project ?? "",
    orderBy: flags.orderBy ?? "",
    pageSize: flags.pageSize ?? 0,
  };
  const client = await session.client();
  const items = [];
  for await (const vcluster of client.paginateVClusters(request, kit.io.signal ? { signal: kit.io.signal } : {})) {
    items.push(vcluster);
  }
  const where = namespace ? ` in namespace ${namespace}` : "";
  printMany(
    kit.io.stdout,
    {
      schema: VClusterSchema,
      kind: "vcluster",
      columns: vclusterColumns(namespace === ""),
      format: flags.output,
      ...listPrintOptions(flags),
    },
    items,
    {
      emptyMessage: `No vclusters found${where}.`,
      errors: kit.io.stderr,
    },
  );
}

export function registerList(program: Command, kit: CommandKit): void {
  const command = addListOptions(program.command("list").alias("ls").description("list vclusters (every page)"));
  examples(command, [
    "vcluster-api list",
    "vcluster-api list -n team-a -o wide",
    "vcluster-api list -A -l 'env=prod,tier in (web,api)' --phase running",
    "vcluster-api list -o json | jq -r '.items[].name'",
    "vcluster-api list -A -o custom-columns=NAMESPACE:.namespace,NAME:.name,CPU:.status.currentUsage.cpuUsage --sort-by .name",
    'vcluster-api list -o jsonpath=\'{range .items[*]}{.name}{"\\t"}{.status.phase}{"\\n"}{end}\'',
  ]);
  command.action(async (flags: ListFlags, cmd: Command) => listAll(kit.session(cmd), kit, flags));
}

interface GetFlags extends ListFlags {
  id?: string;
}

export function registerGet(program: Command, kit: CommandKit): void {
  const command = addListOptions(
    program
      .command("get")
      .description("show one vcluster; without a name, list them as `list` does")
      .argument("[name]", "vcluster name"),
  );
  command.option("--id <id>", "look the vcluster up by id instead of name");
  examples(command, [
    "vcluster-api get dev",
    "vcluster-api get dev -n team-a -o yaml",
    "vcluster-api get --id 6f1c0d9e-0a51-4a53-9a3c-3f6f4e1c2b7a -o json",
    "vcluster-api get -l env=prod",
  ]);
  command.action(async (name: string | undefined, flags: GetFlags, cmd: Command) => {
    const session = kit.session(cmd);
    if (!name && !flags.id) return listAll(session, kit, flags);
    const client = await session.client();
    const request = flags.id
      ? { id: flags.id }
      : { name: name ?? "", namespace: await session.namespace(flags.namespace) };
    const { vcluster } = await client.vclusters.getVCluster(request);
    if (!vcluster) throw new Error("the server returned no vcluster");
    printOne(
      kit.io.stdout,
      {
        schema: VClusterSchema,
        kind: "vcluster",
        columns: vclusterColumns(false),
        format: flags.output,
        ...listPrintOptions(flags),
      },
      vcluster,
    );
  });
}
