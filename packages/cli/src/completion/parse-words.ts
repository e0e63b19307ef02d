import type { CommandNode, FlagInfo } from "./command-tree.js";
import type { ValueKind } from "./value-kinds.js";

/** What the word being completed is, read from the words typed before it. */
export interface CompletionContext {
  /** The command the words lead to. */
  node: CommandNode;
  /** What the word names; undefined when the CLI has nothing to look up. */
  kind: ValueKind | undefined;
  /** The part of the word typed so far. */
  prefix: string;
  /** Values of the flags typed so far, by long name ("--namespace" for -n too); the last one wins. */
  flags: Map<string, string>;
  /** Arguments typed so far. */
  args: string[];
}

function findFlag(node: CommandNode, word: string): FlagInfo | undefined {
  return node.flags.find((flag) => flag.long === word || flag.short === word);
}

/**
 * Reads the command line the way the program will: subcommands, flags with their values (also
 * `--flag=value`) and arguments. `words` excludes the program's name; the last is the word
 * being completed (empty right after a space).
 */
export function parseWords(root: CommandNode, words: string[]): CompletionContext {
  const before = words.slice(0, -1);
  const prefix = words.at(-1) ?? "";
  const flags = new Map<string, string>();
  const args: string[] = [];
  let node = root;
  let onlyArgs = false;
  for (let i = 0; i < before.length; i++) {
    const word = before[i] ?? "";
    if (onlyArgs || word === "-" || !word.startsWith("-")) {
      const child = args.length === 0 && !onlyArgs ? node.children.find((c) => c.names.includes(word)) : undefined;
      if (child) node = child;
      else args.push(word);
      continue;
    }
    if (word === "--") {
      onlyArgs = true;
      continue;
    }
    const equals = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = findFlag(node, equals > 0 ? word.slice(0, equals) : word);
    if (!flag?.takesValue) continue;
    const key = flag.long ?? flag.short ?? word;
    if (equals > 0) {
      flags.set(key, word.slice(equals + 1));
      continue;
    }
    if (i + 1 === before.length) return { node, kind: flag.valueKind, prefix, flags, args };
    flags.set(key, before[++i] ?? "");
  }
  const kind = !onlyArgs && prefix.startsWith("-") ? undefined : node.argumentKind;
  return { node, kind, prefix, flags, args };
}
