import { COMPLETE_COMMAND } from "./callback-keys.js";
import { allNodes, type CommandNode, flagWords, valueFlags } from "./command-tree.js";
import { callbackPredicates } from "./shell-predicates.js";

const q = (words: string[]) => words.join(" ");

/** A bash completion function; works with bash 3.2 (macOS), so no associative arrays. */
export function bashCompletion(root: CommandNode, program: string): string {
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const nodes = allNodes(root);
  const childCases = nodes
    .filter((node) => node.children.length > 0)
    .map((node) => `    "${q(node.path)}") echo "${q(node.children.flatMap((child) => child.names))}" ;;`);
  const flagCases = nodes.map((node) => `    "${q(node.path)}") echo "${q(flagWords(node))}" ;;`);
  const aliasCases = nodes.flatMap((node) =>
    node.names.slice(1).map((alias) => `    "${q([...node.path.slice(0, -1), alias])}") echo "${q(node.path)}" ;;`),
  );
  const values = [...valueFlags(root)];
  const valueCases = values.map(
    ([flag, choices]) => `    ${flag}) COMPREPLY=($(compgen -W "${q(choices)}" -- "$cur")); return ;;`,
  );
  return `# bash completion for ${program}
# Load it in the current shell:  source <(${program} completion bash)
# Or install it:                 ${program} completion bash > /etc/bash_completion.d/${program}

${fn}_children() {
  case "$1" in
${childCases.join("\n")}
  esac
}

${fn}_flags() {
  case "$1" in
${flagCases.join("\n")}
  esac
}

${fn}_canonical() {
  case "$1" in
${aliasCases.join("\n")}
    *) echo "$1" ;;
  esac
}

${callbackPredicates(root, fn)}

${fn}() {
  local cur prev word path i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case " $(${fn}_children "$path") " in
      *" $word "*) path="$(${fn}_canonical "\${path:+$path }$word")" ;;
    esac
  done
  if ${fn}_asks "$path|$prev" || { [[ "$cur" != -* ]] && ! ${fn}_takes_value "$path|$prev" && ${fn}_asks "$path|"; }; then
    # Only what the server knows (nothing when it is unreachable): file names would be wrong here.
    compopt +o default 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(${program} ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    return 0
  fi
  case "$prev" in
${valueCases.join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_flags "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${fn}_children "$path")" -- "$cur"))
  fi
}

complete -o default -F ${fn} ${program}
`;
}
