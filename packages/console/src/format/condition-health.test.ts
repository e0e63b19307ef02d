import { create } from "@bufbuild/protobuf";
import { ConditionSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { conditionHealth } from "./condition-health.js";

const condition = (type: string, status: string) => create(ConditionSchema, { type, status });

describe("conditionHealth", () => {
  it("judges by meaning, not by True or False", () => {
    expect(conditionHealth(condition("Ready", "True"), false)).toBe("good");
    expect(conditionHealth(condition("Suspended", "False"), false)).toBe("good");
    expect(conditionHealth(condition("Ready", "False"), false)).toBe("bad");
    expect(conditionHealth(condition("MemoryPressure", "True"), false)).toBe("bad");
    expect(conditionHealth(condition("Ready", "Unknown"), false)).toBe("neutral");
  });

  it("does not alarm about a vcluster suspended on purpose", () => {
    expect(conditionHealth(condition("Suspended", "True"), true)).toBe("neutral");
    expect(conditionHealth(condition("Ready", "False"), true)).toBe("neutral");
    expect(conditionHealth(condition("Suspended", "True"), false)).toBe("bad");
  });
});
