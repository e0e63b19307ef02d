import { Phase, type VCluster, VClusterSchema } from "@open-vcluster/api";
import { UsageError } from "../errors.js";
import { selectAll, valueText } from "../output/jsonpath.js";
import { humanizePhases, phaseName } from "../output/phase-names.js";
import { messageJson } from "../output/structured.js";

/** What `wait --for=…` waits for, checked against each state the watch delivers. */
export interface WaitCondition {
  description: string;
  /** `undefined` means the vcluster does not exist (any more). */
  met(vcluster: VCluster | undefined): boolean;
  /** What `wait` prints once the condition holds, after "vcluster/NAME". */
  done: string;
}

function parsePhase(text: string): Phase {
  const key = text
    .trim()
    .toUpperCase()
    .replace(/^PHASE_/, "");
  const phase = Phase[key as keyof typeof Phase];
  if (phase === undefined || phase === Phase.UNSPECIFIED) {
    const names = Object.values(Phase)
      .filter((p): p is Phase => typeof p === "number" && p !== Phase.UNSPECIFIED)
      .map(phaseName);
    throw new UsageError(`--for=phase=${text}: unknown phase; one of ${names.join(", ")}`);
  }
  return phase;
}

/**
 * kubectl's `--for` forms: `delete`, `condition=TYPE[=STATUS]` (status True by default, type
 * matched without regard to case), `jsonpath={PATH}[=VALUE]` (without a value: the path selects
 * something non-empty), and this API's `phase=PHASE`.
 */
export function parseWaitFor(text: string): WaitCondition {
  if (text === "delete") return { description: "deletion", met: (v) => v === undefined, done: "deleted" };
  const eq = text.indexOf("=");
  const kind = eq < 0 ? text : text.slice(0, eq);
  const rest = eq < 0 ? "" : text.slice(eq + 1);
  if (kind === "phase" && rest) {
    const phase = parsePhase(rest);
    return {
      description: `phase ${phaseName(phase)}`,
      met: (v) => v?.status?.phase === phase,
      done: `phase ${phaseName(phase)}`,
    };
  }
  if (kind === "condition" && rest) {
    const [type = "", wanted = "True"] = rest.split("=");
    return {
      description: `condition ${type}=${wanted}`,
      met: (v) =>
        v?.status?.conditions.some(
          (c) => c.type.toLowerCase() === type.toLowerCase() && c.status.toLowerCase() === wanted.toLowerCase(),
        ) === true,
      done: "condition met",
    };
  }
  if (kind === "jsonpath" && rest) {
    // The value follows the expression: "{.a.b}=x", or for a bare ".a.b=x" the last "=".
    const close = rest.startsWith("{") ? rest.indexOf("}") : -1;
    const split = close >= 0 ? (rest[close + 1] === "=" ? close + 1 : -1) : rest.lastIndexOf("=");
    const expression = split >= 0 ? rest.slice(0, split) : rest;
    const wanted = split >= 0 ? rest.slice(split + 1) : undefined;
    selectAll({}, expression, "--for=jsonpath");
    return {
      description: wanted === undefined ? `${expression} to be set` : `${expression}=${wanted}`,
      met: (v) => {
        if (!v) return false;
        const found = valueText(selectAll(messageJson(VClusterSchema, v), expression, "--for=jsonpath"));
        // Phases match in the API's spelling or the one tables use ("PHASE_RUNNING" or "Running").
        return wanted === undefined ? found !== "" : found === wanted || humanizePhases(found) === wanted;
      },
      done: "condition met",
    };
  }
  throw new UsageError(
    `--for: expected delete, condition=TYPE[=STATUS], phase=PHASE or jsonpath={PATH}[=VALUE], got "${text}"`,
  );
}
