import { writeFile } from "node:fs/promises";
import type { RunningServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliSandbox, hasStackTrace, startTestServer } from "./cli-harness.js";

let fast: RunningServer;
let slow: RunningServer;
let secured: RunningServer;
let cli: CliSandbox;

beforeAll(async () => {
  cli = await CliSandbox.create();
  const tokens = cli.path("tokens.yaml");
  await writeFile(tokens, "tokens:\n  - token: admin-token-0001\n    subject: admin\n    admin: true\n");
  [fast, slow, secured] = await Promise.all([
    startTestServer(),
    // Operations take far longer than any test: waits on this server can only time out.
    startTestServer({ timeScale: 10_000 }),
    startTestServer({ authTokensFile: tokens }),
  ]);
  const existing = await cli.run(["create", "taken", "--server", fast.url]);
  expect(existing.code).toBe(0);
});

afterAll(async () => {
  await Promise.all([fast?.close(), slow?.close(), secured?.close()]);
  await cli?.dispose();
});

describe.concurrent("exit codes and error messages", () => {
  it.each([
    ["an unknown option", ["list", "--bogus"], /unknown option '--bogus'/],
    [
      "an invalid output format",
      ["list", "-o", "xml"],
      /unknown output format "xml"; one of table, wide, json, yaml, name/,
    ],
    ["a jsonpath without template", ["list", "-o", "jsonpath"], /jsonpath needs a template/],
    ["a malformed jsonpath", ["list", "-A", "-o", "jsonpath={.name"], /-o jsonpath: unclosed "\{"/],
    ["an unknown --for", ["wait", "x", "--for", "ready"], /--for: expected delete, condition=TYPE/],
    [
      "an unknown phase",
      ["list", "--phase", "sleeping"],
      /unknown phase "sleeping"; one of Creating, Running, Suspended/,
    ],
    ["a malformed label selector", ["list", "-l", "env in ("], /invalid label selector/],
    ["a missing argument", ["update"], /missing required argument 'name'/],
    ["a bad duration", ["create", "x", "--wait", "--timeout", "soon"], /--timeout: invalid duration/],
    ["a bad label", ["create", "x", "--label", "novalue"], /--label: expected key=value/],
    ["an unknown command", ["destroy"], /unknown command 'destroy'/],
  ])("exits 2 on %s", async (_what, args, message) => {
    const result = await cli.run([...args, "--server", fast.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(hasStackTrace(result.stderr)).toBe(false);
  });

  it("exits 3 when the vcluster does not exist, printing the server's message and reason", async () => {
    const result = await cli.run(["get", "missing", "--server", fast.url]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe("error: vcluster default/missing not found\n  reason: NOT_FOUND\n");
  });

  it("exits 4 when the vcluster already exists", async () => {
    const result = await cli.run(["create", "taken", "--server", fast.url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/already exists\n {2}field: {2}name \(NAME\)\n {2}reason: ALREADY_EXISTS/);
  });

  it("exits 5 when the server cannot be reached, with a hint", async () => {
    const result = await cli.run(["list", "--server", "http://127.0.0.1:1"]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
    expect(result.stderr).toMatch(/hint: {3}is the server running at http:\/\/127\.0\.0\.1:1\?/);
  });

  it("exits 6 when --wait runs out of time", async () => {
    const result = await cli.run(["create", "sluggish", "--server", slow.url, "--wait", "--timeout", "300ms"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/vcluster default\/sluggish: Creating/);
    expect(result.stderr).toMatch(
      /error: timed out after 300 ms waiting for vcluster default\/sluggish to reach phase Running/,
    );
  });

  it("exits 7 without a valid token, and succeeds with one from flag or environment", async () => {
    const none = await cli.run(["list", "--server", secured.url]);
    expect(none.code).toBe(7);
    expect(none.stderr).toMatch(/reason: UNAUTHENTICATED/);
    expect((await cli.run(["list", "--server", secured.url, "--token", "wrong-token-0000"])).code).toBe(7);
    expect((await cli.run(["list", "--server", secured.url, "--token", "admin-token-0001"])).code).toBe(0);
    const fromEnv = await cli.run(["list", "--server", secured.url], {
      env: { VCLUSTER_API_TOKEN: "admin-token-0001" },
    });
    expect(fromEnv.code).toBe(0);
  });

  it("exits 8 when the server rejects an argument, naming the field", async () => {
    const result = await cli.run(["create", "too-many", "--replicas", "3", "--server", fast.url]);
    expect(result.code).toBe(8);
    expect(result.stderr).toMatch(/^error: spec\.replicas: .*etcd/);
    expect(result.stderr).toContain("  field:  spec.replicas (--replicas)\n  reason: INVALID_FIELD\n");
  });
});
