import { allNodes, type CommandNode } from "./command-tree.js";

/**
 * The hidden command completion scripts call, as kubectl's `__complete`:
 * `vcluster-api __complete <words after the program name…> <word being completed>`.
 */
export const COMPLETE_COMMAND = "__complete";

/**
 * Keys "<command path>|<previous word>" telling a completion script when to ask the CLI for
 * candidates: "get|" for get's arguments, "get|-n" for the value of get's -n. Scripts match them
 * with a plain `case`, so nothing runs (and no server is called) anywhere else.
 */
export function callbackKeys(root: CommandNode): string[] {
  const keys: string[] = [];
  for (const node of allNodes(root)) {
    const path = node.path.join(" ");
    if (node.argumentKind) keys.push(`${path}|`);
    for (const flag of node.flags) {
      if (!flag.valueKind) continue;
      for (const word of [flag.long, flag.short]) if (word) keys.push(`${path}|${word}`);
    }
  }
  return keys;
}

/** Keys "<command path>|<flag>" of every flag taking a value: the word after one is not an argument. */
export function valueFlagKeys(root: CommandNode): string[] {
  return allNodes(root).flatMap((node) =>
    node.flags
      .filter((flag) => flag.takesValue)
      .flatMap((flag) => [flag.long, flag.short].filter((word): word is string => Boolean(word)))
      .map((word) => `${node.path.join(" ")}|${word}`),
  );
}
