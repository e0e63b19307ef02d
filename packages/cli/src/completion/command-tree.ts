import type { Command } from "commander";
import { argumentKind, flagKind, type ValueKind } from "./value-kinds.js";

export interface FlagInfo {
  long: string | undefined;
  short: string | undefined;
  takesValue: boolean;
  choices: string[];
  description: string;
  /** Set when the flag's value names an existing object the CLI can look up. */
  valueKind?: ValueKind;
}

/** A command as completion scripts see it: its words, flags and children. */
export interface CommandNode {
  /** Names from the root, the root excluded ([] for the root, ["snapshot", "create"]…). */
  path: string[];
  names: string[];
  description: string;
  flags: FlagInfo[];
  children: CommandNode[];
  /** Set when the command's arguments name existing objects the CLI can look up. */
  argumentKind?: ValueKind;
}

function flagsOf(command: Command): FlagInfo[] {
  return command.options
    .filter((option) => !option.hidden)
    .map((option) => ({
      long: option.long,
      short: option.short,
      takesValue: option.required || option.optional,
      choices: option.argChoices ?? [],
      description: option.description,
    }));
}

const HELP_FLAG: FlagInfo = { long: "--help", short: "-h", takesValue: false, choices: [], description: "show help" };

/** Walks the program so completions always match the commands that exist. */
export function commandTree(command: Command, path: string[] = [], inherited: FlagInfo[] = []): CommandNode {
  const own = flagsOf(command);
  // The root's connection flags are accepted after any command too.
  const flags = [...own, ...inherited, HELP_FLAG].map((flag) => {
    const valueKind = flag.takesValue ? flagKind(path, flag.long) : undefined;
    return valueKind ? { ...flag, valueKind } : flag;
  });
  const kind = argumentKind(path);
  return {
    path,
    ...(kind ? { argumentKind: kind } : {}),
    names: [command.name(), ...command.aliases()],
    description: command.description(),
    flags,
    children: command.commands.map((child) =>
      commandTree(
        child,
        [...path, child.name()],
        // --version belongs to the root alone; its other flags work after any command.
        path.length === 0 ? own.filter((flag) => flag.long !== "--version") : inherited,
      ),
    ),
  };
}

export function allNodes(node: CommandNode): CommandNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}

export function flagWords(node: CommandNode): string[] {
  return node.flags.flatMap((flag) => [flag.long, flag.short].filter((word): word is string => Boolean(word)));
}

/** Flags whose next word is a value, with its choices when they are known. */
export function valueFlags(root: CommandNode): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const node of allNodes(root)) {
    for (const flag of node.flags) {
      if (!flag.takesValue) continue;
      for (const word of [flag.long, flag.short]) {
        if (!word) continue;
        const known = result.get(word) ?? [];
        result.set(word, [...new Set([...known, ...flag.choices])]);
      }
    }
  }
  return result;
}
