import { COMPLETE_COMMAND } from "./callback-keys.js";
import { allNodes, type CommandNode } from "./command-tree.js";

function quote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * fish completions with descriptions. A node's completions apply once its path has been typed
 * and none of its children has.
 */
export function fishCompletion(root: CommandNode, program: string): string {
  const ask = `__${program.replace(/[^A-Za-z0-9]/g, "_")}_complete`;
  const lookUp = quote(`(${ask})`);
  const lines = [
    `# fish completion for ${program}`,
    `# Load it in the current shell:  ${program} completion fish | source`,
    `# Or install it:                 ${program} completion fish > ~/.config/fish/completions/${program}.fish`,
    `complete -c ${program} -f`,
    "",
    "# Names the CLI looks up (vclusters, snapshots, namespaces, contexts); nothing when the server is unreachable.",
    `function ${ask}`,
    "    set -l words (commandline -opc)",
    "    set -l current (commandline -ct)",
    '    set -q current[1]; or set current ""',
    "    set -e words[1]",
    `    ${program} ${COMPLETE_COMMAND} $words $current 2>/dev/null`,
    "end",
    "",
  ];
  for (const node of allNodes(root)) {
    const childNames = node.children.flatMap((child) => child.names);
    const conditions: string[] = [];
    if (node.path.length === 0) conditions.push("__fish_use_subcommand");
    else {
      for (const name of node.path) conditions.push(`__fish_seen_subcommand_from ${name}`);
      if (childNames.length > 0) conditions.push(`not __fish_seen_subcommand_from ${childNames.join(" ")}`);
    }
    const when = `-n ${quote(conditions.join("; and "))}`;
    for (const child of node.children) {
      for (const name of child.names) {
        lines.push(`complete -c ${program} ${when} -a ${quote(name)} -d ${quote(child.description)}`);
      }
    }
    if (node.argumentKind) lines.push(`complete -c ${program} ${when} -a ${lookUp}`);
    for (const flag of node.flags) {
      const parts = [`complete -c ${program} ${when}`];
      if (flag.long) parts.push(`-l ${flag.long.slice(2)}`);
      if (flag.short) parts.push(`-s ${flag.short.slice(1)}`);
      if (flag.valueKind) parts.push(`-x -a ${lookUp}`);
      else if (flag.takesValue)
        parts.push(flag.choices.length > 0 ? `-x -a ${quote(flag.choices.join(" "))}` : "-r -F");
      parts.push(`-d ${quote(flag.description)}`);
      lines.push(parts.join(" "));
    }
  }
  return `${lines.join("\n")}\n`;
}
