import { COMPLETE_COMMAND } from "./callback-keys.js";
import { allNodes, type CommandNode, flagWords, valueFlags } from "./command-tree.js";
import { callbackPredicates } from "./shell-predicates.js";

const q = (words: string[]) => words.join(" ");

/** A zsh completion function (compadd-based; `path` is avoided because zsh ties it to PATH). */
export function zshCompletion(root: CommandNode, program: string): string {
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const nodes = allNodes(root);
  const childCases = nodes
    .filter((node) => node.children.length > 0)
    .map((node) => `    "${q(node.path)}") reply=(${q(node.children.flatMap((child) => child.names))}) ;;`);
  const flagCases = nodes.map((node) => `    "${q(node.path)}") reply=(${q(flagWords(node))}) ;;`);
  const aliasCases = nodes.flatMap((node) =>
    node.names.slice(1).map((alias) => `    "${q([...node.path.slice(0, -1), alias])}") REPLY="${q(node.path)}" ;;`),
  );
  const valueCases = [...valueFlags(root)].map(
    ([flag, choices]) => `    ${flag}) ${choices.length > 0 ? `compadd -- ${q(choices)}` : "_files"}; return ;;`,
  );
  return `#compdef ${program}
# zsh completion for ${program}
# Load it in the current shell:  source <(${program} completion zsh)
# Or install it:                 ${program} completion zsh > "\${fpath[1]}/_${program}"

${fn}_children() {
  reply=()
  case "$1" in
${childCases.join("\n")}
  esac
}

${fn}_flags() {
  reply=()
  case "$1" in
${flagCases.join("\n")}
  esac
}

${fn}_canonical() {
  REPLY="$1"
  case "$1" in
${aliasCases.join("\n")}
  esac
}

${callbackPredicates(root, fn)}

${fn}() {
  local cmdpath="" word i prev="\${words[CURRENT-1]}"
  local -a reply
  local REPLY
  for (( i = 2; i < CURRENT; i++ )); do
    word="\${words[i]}"
    ${fn}_children "$cmdpath"
    if (( \${reply[(Ie)$word]} )); then
      ${fn}_canonical "\${cmdpath:+$cmdpath }$word"
      cmdpath="$REPLY"
    fi
  done
  if ${fn}_asks "$cmdpath|$prev" || { [[ "\${words[CURRENT]}" != -* ]] && ! ${fn}_takes_value "$cmdpath|$prev" && ${fn}_asks "$cmdpath|"; }; then
    # Only what the server knows (nothing when it is unreachable): file names would be wrong here.
    reply=(\${(f)"$(${program} ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null)"})
    compadd -- "\${reply[@]}"
    return
  fi
  case "$prev" in
${valueCases.join("\n")}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    ${fn}_flags "$cmdpath"
  else
    ${fn}_children "$cmdpath"
  fi
  if (( \${#reply} )); then
    compadd -- "\${reply[@]}"
  else
    _files
  fi
}

compdef ${fn} ${program}
`;
}
