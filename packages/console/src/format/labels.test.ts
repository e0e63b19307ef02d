import { describe, expect, it } from "vitest";
import { parseLabelInput } from "./labels.js";

describe("parseLabelInput", () => {
  it("reads pairs separated by commas and new lines", () => {
    expect(parseLabelInput("env=prod, team = a\ntier=")).toEqual({ labels: { env: "prod", team: "a", tier: "" } });
  });

  it("accepts an empty field", () => {
    expect(parseLabelInput("  ")).toEqual({ labels: {} });
  });

  it("names the entry that is not a pair", () => {
    expect(parseLabelInput("env=prod,oops")).toEqual({ error: '"oops" is not key=value' });
  });
});
