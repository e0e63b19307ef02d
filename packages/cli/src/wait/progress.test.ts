import { describe, expect, it } from "vitest";
import { TransitionProgress } from "./progress.js";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (text: string) => chunks.push(text) } };
}

describe("TransitionProgress", () => {
  it("prints one line per transition when not on a terminal, skipping repeats", () => {
    const { chunks, stream } = sink(false);
    const progress = new TransitionProgress(stream, "vcluster default/dev");
    progress.observe("Creating", "Installing");
    progress.observe("Creating", "Still installing");
    progress.observe("Running");
    progress.finish();
    expect(chunks.join("")).toBe("vcluster default/dev: Creating (Installing)\nvcluster default/dev: Running\n");
  });

  it("rewrites a single line with the path so far on a terminal, ending it once", () => {
    const { chunks, stream } = sink(true);
    const progress = new TransitionProgress(stream, "vcluster default/dev");
    progress.observe("Creating");
    progress.observe("Running");
    progress.finish();
    progress.finish();
    const output = chunks.join("");
    expect(output.split("\n")).toHaveLength(2);
    expect(output).toContain("\r\u001b[2Kvcluster default/dev: Creating → Running");
    expect(output.endsWith("\n")).toBe(true);
  });
});
