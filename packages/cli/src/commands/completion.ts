import { Argument, type Command } from "commander";
import { examples } from "../command-kit.js";
import { bashCompletion } from "../completion/bash.js";
import { commandTree } from "../completion/command-tree.js";
import { fishCompletion } from "../completion/fish.js";
import { zshCompletion } from "../completion/zsh.js";
import type { CommandKit } from "./kit.js";

const generators = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };
type Shell = keyof typeof generators;

export function registerCompletion(program: Command, kit: CommandKit): void {
  const command = program
    .command("completion")
    .description("print a shell completion script")
    .addArgument(new Argument("<shell>", "the shell").choices(Object.keys(generators)))
    .action((shell: Shell) => {
      kit.io.stdout.write(generators[shell](commandTree(program), program.name()));
    });
  examples(command, [
    "source <(vcluster-api completion bash)",
    "vcluster-api completion zsh > ~/.zsh/completions/_vcluster-api   # a directory in fpath",
    "vcluster-api completion fish > ~/.config/fish/completions/vcluster-api.fish",
  ]);
}
