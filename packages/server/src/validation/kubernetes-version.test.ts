import { describe, expect, it } from "vitest";
import {
  compareKubernetesVersions,
  DEFAULT_KUBERNETES_VERSION,
  kubernetesUpgradeProblem,
  kubernetesVersionProblem,
  normalizeKubernetesVersion,
  parseKubernetesVersion,
  SUPPORTED_KUBERNETES_MINORS,
} from "./kubernetes-version.js";

describe("Kubernetes versions", () => {
  it("defaults to a supported version", () => {
    expect(DEFAULT_KUBERNETES_VERSION).toBe("1.34.2");
    expect(kubernetesVersionProblem(DEFAULT_KUBERNETES_VERSION)).toBeUndefined();
    expect(SUPPORTED_KUBERNETES_MINORS).toEqual(["1.31", "1.32", "1.33", "1.34", "1.35"]);
  });

  it.each(["1.31.0", "v1.33.5", "1.35.12"])("accepts %j", (text) => {
    expect(kubernetesVersionProblem(text)).toBeUndefined();
  });

  it.each([
    ["1.34", /must be MAJOR\.MINOR\.PATCH/],
    ["1.34.2-rc.1", /must be MAJOR\.MINOR\.PATCH/],
    ["V1.34.2", /must be MAJOR\.MINOR\.PATCH/],
    ["1.034.2", /must be MAJOR\.MINOR\.PATCH/],
    ["1.30.9", /Kubernetes 1\.30 is not supported; supported versions are 1\.31 to 1\.35/],
    ["1.36.0", /Kubernetes 1\.36 is not supported/],
    ["2.31.0", /Kubernetes 2\.31 is not supported/],
  ])("rejects %j", (text, problem) => {
    expect(kubernetesVersionProblem(text)).toMatch(problem);
  });

  it("parses and normalizes", () => {
    expect(parseKubernetesVersion("v1.32.7")).toEqual({ major: 1, minor: 32, patch: 7 });
    expect(normalizeKubernetesVersion("v1.32.7")).toBe("1.32.7");
    expect(normalizeKubernetesVersion("garbage")).toBe("garbage");
  });

  it.each([
    ["1.33.1", "1.33.1", 0],
    ["v1.33.1", "1.33.1", 0],
    ["1.33.1", "1.33.2", -1],
    ["1.34.0", "1.33.9", 1],
    ["1.9.0", "1.10.0", -1],
    ["2.0.0", "1.99.99", 1],
  ])("compare(%s, %s) has sign %i", (a, b, sign) => {
    expect(Math.sign(compareKubernetesVersions(a, b))).toBe(sign);
  });

  it("compare throws on malformed input", () => {
    expect(() => compareKubernetesVersions("1.33", "1.33.0")).toThrow(RangeError);
  });

  it.each([
    ["1.33.1", "1.33.1", undefined],
    ["1.33.1", "1.33.4", undefined],
    ["1.33.4", "1.33.1", undefined],
    ["1.33.4", "1.34.0", undefined],
    ["1.34.2", "1.33.9", /downgrading Kubernetes from 1\.34 to 1\.33 is not supported/],
    ["1.32.0", "1.34.0", /from 1\.32 to 1\.34 skips a minor version; upgrade to 1\.33 first/],
    ["1.33.0", "2.0.0", /changing the major version/],
  ])("upgrade %s → %s", (from, to, problem) => {
    const result = kubernetesUpgradeProblem(from, to);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });
});
