import { Code } from "@connectrpc/connect";

// The gRPC status names ("OK", "INVALID_ARGUMENT", ...): one spelling for logs, metrics and
// traces, the one operators know from gRPC tooling and the one the API's error reasons use.
const NAMES = new Map<Code | 0, string>([[0, "OK"]]);
for (const [name, value] of Object.entries(Code)) {
  if (typeof value === "number") NAMES.set(value, name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase());
}

/** "OK" for success (code 0), else the gRPC name of a Connect code, e.g. "NOT_FOUND". */
export function codeName(code: Code | 0): string {
  return NAMES.get(code) ?? "UNKNOWN";
}
