import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { FAULTS_ENV, faultsFromEnv } from "./fault-env.js";

describe("faultsFromEnv", () => {
  it("arms nothing without the variable", () => {
    expect(faultsFromEnv({})).toEqual([]);
  });

  it("parses procedure, code, count and when", () => {
    const env = {
      [FAULTS_ENV]: JSON.stringify([
        { procedure: "CreateVCluster", code: "unavailable", count: 2, when: "after" },
        { procedure: "GetVCluster", code: "resource_exhausted" },
      ]),
    };
    expect(faultsFromEnv(env)).toEqual([
      { procedure: "CreateVCluster", code: Code.Unavailable, count: 2, when: "after" },
      { procedure: "GetVCluster", code: Code.ResourceExhausted, count: 1, when: "before" },
    ]);
  });

  it.each([
    ["{", "not JSON"],
    ["{}", "expected a JSON list"],
    ['[{"code":"unavailable"}]', "procedure"],
    ['[{"procedure":"GetVCluster","code":"nope"}]', "unknown code"],
    ['[{"procedure":"GetVCluster","code":"unavailable","count":0}]', "count"],
    ['[{"procedure":"GetVCluster","code":"unavailable","when":"during"}]', "when"],
  ])("rejects %s", (text, problem) => {
    expect(() => faultsFromEnv({ [FAULTS_ENV]: text })).toThrow(problem);
  });
});
