import { LabelSelectorError, parseLabelSelector } from "@open-vcluster/core";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "./duration.js";
import { UsageError } from "./errors.js";
import type { OutputFormat } from "./output/format.js";

/** Options shared by many commands, declared once so names and help texts never drift apart. */
export const namespaceOption = () =>
  new Option("-n, --namespace <namespace>", 'namespace (default: the context\'s, else "default")');
export const allNamespacesOption = () =>
  new Option(
    "-A, --all-namespaces",
    "every namespace (without it, only -n's, else the context's, else \"default\", as kubectl does)",
  );

export const selectorOption = () =>
  new Option("-l, --selector <selector>", "label selector, e.g. 'env=prod,tier in (web,api),!legacy'").argParser(
    (text: string) => {
      // Checked here so a typo fails at once with the parser's position, before any call.
      try {
        parseLabelSelector(text);
      } catch (error) {
        if (error instanceof LabelSelectorError) throw new InvalidArgumentError(error.message);
        throw error;
      }
      return text;
    },
  );

export function addWaitOptions(command: Command, what: string): Command {
  return command
    .option("-w, --wait", `wait until ${what}, showing each phase transition`)
    .option("--timeout <duration>", "give up waiting after this long (e.g. 90s, 5m)", "10m");
}

export interface WaitFlags {
  wait?: boolean;
  timeout: string;
}

export function waitTimeoutMs(flags: WaitFlags): number {
  return parseDuration(flags.timeout, "--timeout");
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function integer(flag: string, options: { min?: number; max?: number } = {}) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value)) throw new InvalidArgumentError(`${flag}: expected an integer, got "${text}"`);
    if (options.min !== undefined && value < options.min)
      throw new InvalidArgumentError(`must be at least ${options.min}`);
    if (options.max !== undefined && value > options.max)
      throw new InvalidArgumentError(`must be at most ${options.max}`);
    return value;
  };
}

/** Whole hours from a duration flag (retention, validity), rounded up so "90m" keeps 2 h. */
export function hoursOf(text: string, flag: string): number {
  const hours = Math.ceil(parseDuration(text, flag) / 3_600_000);
  if (hours > 2_147_483_647) throw new UsageError(`${flag}: too long`);
  return hours;
}

export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`);
}

export interface OutputFlags {
  output: OutputFormat;
}

/** kubectl's list-output flags, for every command that prints several objects. */
export function addListOutputOptions(command: Command): Command {
  return command
    .option("--no-headers", "print table rows without the header line")
    .option("--sort-by <jsonpath>", "order by a field of the JSON form, e.g. .createTime or .status.phase");
}

export interface ListOutputFlags extends OutputFlags {
  /** false with --no-headers. */
  headers: boolean;
  sortBy?: string;
}

export function listPrintOptions(flags: ListOutputFlags): { noHeaders: boolean; sortBy?: string } {
  return { noHeaders: flags.headers === false, ...(flags.sortBy ? { sortBy: flags.sortBy } : {}) };
}

/**
 * `--dry-run` on mutations. The API has no server-side dry run, so this one is the client's:
 * local checks and the lookups a command makes before its call run, the mutation is not sent,
 * and the output says so. The server's own validation does not run.
 */
export function addDryRunOption(command: Command): Command {
  return command.option(
    "--dry-run",
    "show what would be sent and stop (client-side: the server is only read, its validation does not run)",
  );
}

export interface DryRunFlags {
  dryRun?: boolean;
}
