import { readFileSync } from "node:fs";
import { Phase, Phases } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { LIFECYCLE, renderLifecycleTable, requireAllowed, TRANSITIONAL_PHASES } from "./state-machine.js";

describe("lifecycle table", () => {
  it("is the table docs/server/lifecycle.md shows", () => {
    const docs = readFileSync(new URL("../../../../docs/server/lifecycle.md", import.meta.url), "utf8");
    expect(docs).toContain(renderLifecycleTable());
  });

  it("refuses an action outside its phases, and any action while an operation runs", () => {
    const vcluster = { namespace: "ns", name: "a", status: { phase: Phase.SUSPENDED } } as never;
    expect(() => requireAllowed("resume", vcluster, undefined)).not.toThrow();
    expect(() => requireAllowed("scale", vcluster, undefined)).toThrow(
      /cannot scale \(allowed from PHASE_RUNNING, PHASE_ERROR\)/,
    );
    expect(() => requireAllowed("resume", vcluster, { kind: "delete", id: "op" })).toThrow(
      /operation delete op in progress/,
    );
  });

  it("never allows a mutation from a transitional phase except a delete of a waiting create", () => {
    for (const [action, transition] of Object.entries(LIFECYCLE)) {
      for (const phase of transition.allowedFrom) {
        if (action === "delete" && phase === Phase.PENDING) continue;
        expect(TRANSITIONAL_PHASES.has(phase), `${action} from ${Phase[phase]}`).toBe(false);
      }
    }
  });

  it("settles exactly in the contract's settled phases (the SDKs' waiters rely on them)", () => {
    const phases = Object.values(Phase).filter((p): p is Phase => typeof p === "number" && p !== Phase.UNSPECIFIED);
    const settled = phases.filter((p) => !TRANSITIONAL_PHASES.has(p));
    expect(new Set(settled)).toEqual(Phases.settled);
  });
});
