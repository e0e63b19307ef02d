import { describe, expect, it } from "vitest";
import { buildProgram } from "../program.js";
import { callbackKeys } from "./callback-keys.js";
import { allNodes, commandTree } from "./command-tree.js";
import { parseWords } from "./parse-words.js";
import { pathsWithKinds } from "./value-kinds.js";

const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, homeDir: "/nonexistent" };
const root = commandTree(buildProgram(io, {}));

const read = (line: string) => {
  const { node, kind, prefix, flags, args } = parseWords(root, line.split(" "));
  return { path: node.path.join(" "), kind, prefix, flags: Object.fromEntries(flags), args };
};

describe("parseWords", () => {
  it("finds the command, through aliases, and what its arguments name", () => {
    expect(read("get d")).toMatchObject({ path: "get", kind: "vcluster", prefix: "d" });
    expect(read("snapshots rm a ")).toMatchObject({ path: "snapshot delete", kind: "snapshot", args: ["a"] });
    expect(read("config use-context ")).toMatchObject({ path: "config use-context", kind: "context" });
    expect(read("create ")).toMatchObject({ path: "create", kind: undefined });
  });

  it("completes the value of a flag by the flag's kind, per command", () => {
    expect(read("get -n te")).toMatchObject({ kind: "namespace", prefix: "te" });
    expect(read("restore dev --snapshot ")).toMatchObject({ kind: "snapshot", args: ["dev"] });
    expect(read("kubeconfig token --name ")).toMatchObject({ kind: "vcluster" });
    expect(read("snapshot create dev --name ")).toMatchObject({ kind: undefined });
    expect(read("--context ")).toMatchObject({ path: "", kind: "context" });
    expect(read("get --timeout ")).toMatchObject({ kind: "vcluster" }); // get has no --timeout
    expect(read("scale --timeout ")).toMatchObject({ kind: undefined });
  });

  it("collects connection flags in both spellings and skips their values", () => {
    expect(read("--server http://x get --namespace=team-a -o wide ")).toMatchObject({
      path: "get",
      kind: "vcluster",
      flags: { "--server": "http://x", "--namespace": "team-a", "--output": "wide" },
      args: [],
    });
  });

  it("offers nothing for a flag being typed", () => {
    expect(read("get --na")).toMatchObject({ kind: undefined });
  });
});

describe("value kinds", () => {
  it("name only commands that exist", () => {
    const paths = new Set(allNodes(root).map((node) => node.path.join(" ")));
    for (const path of pathsWithKinds()) expect(paths, path).toContain(path);
  });

  it("make scripts call back for arguments and flag values that name objects, and nothing else", () => {
    const keys = callbackKeys(root);
    expect(keys).toEqual(expect.arrayContaining(["get|", "get|-n", "restore|--snapshot", "|--context"]));
    expect(keys).not.toContain("create|");
    expect(keys).not.toContain("snapshot create|--name");
    expect(keys).not.toContain("suspend|--snapshot-name");
  });
});
