import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// The breaking-change check, run on a copy of the contract so the copy can be broken.
const repo = resolve(import.meta.dirname, "../../..");
const script = join(repo, "scripts", "proto-breaking.mjs");
const current = join("proto", "vcluster", "api", "v1", "vcluster_api.proto");
const copies: string[] = [];

function copyOfContract(): string {
  const dir = mkdtempSync(join(tmpdir(), "contract-"));
  copies.push(dir);
  cpSync(join(repo, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(join(repo, "buf.yaml"), join(dir, "buf.yaml"));
  return dir;
}

function edit(dir: string, path: string, change: (text: string) => string): void {
  const file = join(dir, path);
  const before = readFileSync(file, "utf8");
  const after = change(before);
  expect(after, `the edit of ${path} changed nothing`).not.toBe(before);
  writeFileSync(file, after);
}

function check(dir: string) {
  const result = spawnSync(process.execPath, [script, "--root", dir], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the breaking-change check against the published contract", () => {
  it("passes on the contract as committed, naming the intended changes it accepts", () => {
    const result = check(copyOfContract());
    expect(result.output).toContain("compatible with the published contract (5 intended changes)");
    expect(result.status).toBe(0);
  });

  it("fails on a renumbered field", () => {
    const dir = copyOfContract();
    edit(dir, current, (t) =>
      t.replace("  string namespace = 3;\n  // Desired state.", "  string namespace = 30;\n  // Desired state."),
    );
    const result = check(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/breaking changes against the published contract/);
    expect(result.output).toMatch(/FIELD_NO_DELETE|FIELD_SAME_NUMBER/);
  });

  it("fails on a renamed enum value (JSON clients send names)", () => {
    const dir = copyOfContract();
    edit(dir, current, (t) => t.replace("PHASE_SUSPENDED = 3;", "PHASE_PAUSED = 3;"));
    const result = check(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/ENUM_VALUE_SAME_NAME/);
  });

  it("fails when a listed intended change is no longer made, so the list stays true", () => {
    const dir = copyOfContract();
    edit(dir, current, (t) =>
      t.replace(
        "rpc GetSnapshot(GetSnapshotRequest) returns (GetSnapshotResponse) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n  }",
        "rpc GetSnapshot(GetSnapshotRequest) returns (GetSnapshotResponse);",
      ),
    );
    const result = check(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/lists changes buf no longer reports:\n.*GetSnapshot/);
  });

  it("fails when the baseline image is not what the readable baseline builds", () => {
    const dir = copyOfContract();
    edit(dir, join("proto", "baseline", "vcluster", "api", "v1", "vcluster_api.proto"), (t) =>
      t.replace("PHASE_PENDING = 11;", "PHASE_PENDING = 11;\n  PHASE_SLEEPING = 12;"),
    );
    const result = check(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/baseline\.binpb is not what proto\/baseline\/ builds/);
  });
});
