import { callbackKeys, valueFlagKeys } from "./callback-keys.js";
import type { CommandNode } from "./command-tree.js";

/** One `case` pattern matching any of the keys literally ("-" never matches a key). */
const anyOf = (keys: string[]) => (keys.length > 0 ? keys.map((key) => JSON.stringify(key)).join("|") : '"-"');

/**
 * The two predicates bash and zsh scripts share (same `case` syntax in both shells):
 * `<fn>_asks "<command path>|<previous word>"` — the candidates are names the CLI looks up;
 * `<fn>_takes_value "<flag>"` — the flag consumes the next word.
 */
export function callbackPredicates(root: CommandNode, fn: string): string {
  return `# "<command path>|<previous word>": where the candidates are names the CLI looks up.
${fn}_asks() {
  case "$1" in
    ${anyOf(callbackKeys(root))}) return 0 ;;
  esac
  return 1
}

${fn}_takes_value() {
  case "$1" in
    ${anyOf(valueFlagKeys(root))}) return 0 ;;
  esac
  return 1
}`;
}
