import { Code } from "@connectrpc/connect";
import type { RpcFault } from "./http/interceptors.js";

/**
 * The environment variable that arms RPC faults when the server starts, for client test
 * suites (the Go and Python SDKs') that run the server as a process and need, say, the
 * responses of the first CreateVCluster calls lost after the server committed them. A JSON
 * list of `{ "procedure": "CreateVCluster", "code": "unavailable", "count": 2, "when": "after" }`.
 */
export const FAULTS_ENV = "VCLUSTER_API_INJECT_FAULTS";

const whens = new Set(["before", "after"]);

function codeNamed(name: unknown): Code {
  const pascal = typeof name === "string" ? name.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase()) : "";
  const code = Code[pascal as keyof typeof Code];
  if (typeof code !== "number") throw new Error(`${FAULTS_ENV}: unknown code ${JSON.stringify(name)}`);
  return code;
}

/** Parses the faults the environment asks for; a malformed value is an error, never ignored. */
export function faultsFromEnv(env: NodeJS.ProcessEnv): RpcFault[] {
  const text = env[FAULTS_ENV];
  if (text === undefined || text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${FAULTS_ENV}: not JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${FAULTS_ENV}: expected a JSON list of faults`);
  return parsed.map((raw: unknown, index) => {
    const f = (raw ?? {}) as Record<string, unknown>;
    if (typeof f.procedure !== "string" || f.procedure === "") {
      throw new Error(`${FAULTS_ENV}[${index}].procedure: expected a method name such as "CreateVCluster"`);
    }
    const count = f.count ?? 1;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
      throw new Error(`${FAULTS_ENV}[${index}].count: expected a positive integer`);
    }
    const when = f.when ?? "before";
    if (typeof when !== "string" || !whens.has(when)) {
      throw new Error(`${FAULTS_ENV}[${index}].when: expected "before" or "after"`);
    }
    return { procedure: f.procedure, code: codeNamed(f.code), count, when: when as "before" | "after" };
  });
}
