import { create } from "@bufbuild/protobuf";
import { VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { ProviderFaults } from "./faults.js";
import { SimulatedProvider } from "./simulated.js";
import type { OperationKind, ProviderResult } from "./types.js";

const vcluster = create(VClusterSchema, {
  id: "0b6f3f5e-2a4c-4d8e-9b1a-6f1c2d3e4f50",
  name: "dev",
  namespace: "team-a",
  spec: { replicas: 1, resources: { cpuRequest: "200m", memoryRequest: "256Mi" } },
});

function setup(timeScale = 1) {
  const clock = new ManualClock();
  const faults = new ProviderFaults();
  const provider = new SimulatedProvider({ clock, faults, timeScale });
  const run = (kind: OperationKind, extra: { gracePeriodSeconds?: number } = {}) => {
    let settled: { result?: ProviderResult; error?: unknown } | undefined;
    provider.run({ kind, vcluster, signal: new AbortController().signal, ...extra }).then(
      (result) => (settled = { result }),
      (error: unknown) => (settled = { error }),
    );
    return () => settled;
  };
  return { clock, faults, run };
}

/** Lets the provider's promise chain run after the clock moved. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("SimulatedProvider under a manual clock", () => {
  it("takes exactly its scaled duration, and no longer", async () => {
    const { clock, run } = setup(0.5);
    const outcome = run("create");
    clock.advance(1499);
    await flush();
    expect(outcome()).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(outcome()?.result?.usage?.podCount).toBeGreaterThan(0);
  });

  it("adds the grace period to a delete", async () => {
    const { clock, run } = setup(1);
    const outcome = run("delete", { gracePeriodSeconds: 5 });
    clock.advance(5999);
    await flush();
    expect(outcome()).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(outcome()?.result).toEqual({});
  });

  it("reports the same usage for the same vcluster every time, and zero pods while suspended", async () => {
    const { clock, run } = setup(0);
    const first = run("update");
    const second = run("scale");
    const suspended = run("suspend");
    clock.advance(0);
    await flush();
    expect(first()?.result?.usage).toEqual(second()?.result?.usage);
    expect(suspended()?.result?.usage?.podCount).toBe(0);
  });

  it("fails or slows only the next N operations of the injected kind", async () => {
    const { clock, faults, run } = setup(0);
    faults.inject({ kind: "resume", mode: "fail", count: 2, message: "no capacity" });
    faults.inject({ kind: "snapshot", mode: "slow", delayMs: 10_000 });
    const resumes = [run("resume"), run("resume"), run("resume")];
    const create = run("create");
    const slow = run("snapshot");
    clock.advance(0);
    await flush();
    expect(resumes.map((r) => (r()?.error as Error | undefined)?.message)).toEqual([
      "no capacity",
      "no capacity",
      undefined,
    ]);
    expect(create()?.result).toBeDefined();
    expect(slow()).toBeUndefined();
    clock.advance(10_000);
    await flush();
    expect(slow()?.result?.backingStore).toMatchObject({ kind: "sqlite" });
  });
});
