import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The RPC handlers, one file per group. What several of them need lives in shared.ts,
// mutation.ts or state-machine.ts, so following one RPC never leads through another handler.
const HANDLERS = ["create", "mutate", "read", "snapshot-ops", "snapshot-service", "watch"];

describe("service layout", () => {
  it.each(HANDLERS)("%s.ts imports no other handler file", (handler) => {
    const source = readFileSync(new URL(`./${handler}.ts`, import.meta.url), "utf8");
    const imported = [...source.matchAll(/from "\.\/([a-z-]+)\.js"/g)].map((m) => m[1]);
    expect(imported.filter((name) => HANDLERS.includes(name ?? ""))).toEqual([]);
  });

  it("keeps the allowed-from phases in the state machine only", () => {
    for (const handler of HANDLERS) {
      const source = readFileSync(new URL(`./${handler}.ts`, import.meta.url), "utf8");
      expect(source, handler).not.toMatch(/requirePhase|\[Phase\.[A-Z]+, Phase\./);
    }
  });
});
