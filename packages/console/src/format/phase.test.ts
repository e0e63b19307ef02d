import { describe, expect, it } from "vitest";
import { withPhaseLabels } from "./phase.js";

describe("withPhaseLabels", () => {
  it("spells the server's phases as the badges do, and leaves anything else alone", () => {
    expect(withPhaseLabels("vcluster team-a/x is PHASE_SUSPENDED; cannot suspend (allowed from PHASE_RUNNING)")).toBe(
      "vcluster team-a/x is Suspended; cannot suspend (allowed from Running)",
    );
    expect(withPhaseLabels("PHASE_BOGUS and PHASE_ERROR")).toBe("PHASE_BOGUS and Error");
  });
});
