import { readFile, stat } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useCliAgainstServer } from "./cli-harness.js";

const suite = useCliAgainstServer();
const { ok, json } = suite;

describe("snapshots and restore", () => {
  beforeAll(async () => {
    await ok("create", "db", "-n", "data", "--wait");
  });

  it("takes, lists, shows and deletes snapshots", async () => {
    const taken = await ok(
      "snapshot",
      "create",
      "db",
      "-n",
      "data",
      "--name",
      "first",
      "--label",
      "why=test",
      "--wait",
    );
    expect(taken).toMatch(/^snapshot data\/first ready \(id [0-9a-f-]+\)\n$/);
    const listed = await ok("snapshot", "list", "-n", "data");
    expect(listed.split("\n")[0]).toMatch(/^NAME\s+VCLUSTER\s+STATUS\s+SIZE\s+AGE$/);
    expect(listed).toMatch(/^first\s+db\s+Ready\s/m);
    expect(await ok("snapshot", "list", "-n", "data", "-o", "wide", "--vcluster", "db")).toMatch(
      /EXPIRES\s+ID\s+LABELS\s+STORAGE/,
    );
    const shown = await json("snapshot", "get", "first", "-n", "data");
    expect(shown).toMatchObject({
      name: "first",
      vclusterName: "db",
      status: "SNAPSHOT_STATUS_READY",
      labels: { why: "test" },
    });
    expect(parse(await ok("snapshot", "get", shown.id, "-o", "yaml"))).toEqual(shown);
    expect(await ok("snapshot", "delete", shown.id)).toBe("snapshot data/first deleted\n");
    expect((await suite.sandbox.run(["snapshot", "get", "first", "-n", "data"])).code).toBe(3);
  });

  it("restores in place and into a new vcluster", async () => {
    await ok("snapshot", "create", "db", "-n", "data", "--name", "base", "--wait");
    expect(await ok("restore", "db", "-n", "data", "--snapshot", "base", "--wait")).toBe(
      "vcluster data/db restored from base\n",
    );
    const copy = await json("restore", "db", "-n", "data", "--snapshot", "base", "--new-name", "db-copy", "--wait");
    expect(copy).toMatchObject({ name: "db-copy", namespace: "data", status: { phase: "PHASE_RUNNING" } });
  });
});

describe("kubeconfig", () => {
  beforeAll(async () => {
    await ok("create", "kc", "-n", "team", "--wait");
  });

  it("prints a kubeconfig, or writes it owner-only to a file", async () => {
    const printed = parse(await ok("kubeconfig", "kc", "-n", "team"));
    expect(printed).toMatchObject({ apiVersion: "v1", kind: "Config", "current-context": "vcluster_kc_team" });
    const file = suite.sandbox.path("kc.yaml");
    const written = await suite.sandbox.run([
      "kubeconfig",
      "kc",
      "-n",
      "team",
      "--format",
      "token",
      "--validity",
      "2h",
      "--out",
      file,
    ]);
    expect(written.code).toBe(0);
    expect(written.stdout).toBe("");
    expect(written.stderr).toMatch(/written to .*kc\.yaml, expires /);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parse(await readFile(file, "utf8")).users[0].user.token).toMatch(/^vct_/);
  });

  it("acts as the credential plugin of exec kubeconfigs", async () => {
    const exec = parse(await ok("kubeconfig", "kc", "-n", "team", "--format", "exec"));
    const args: string[] = exec.users[0].user.exec.args;
    const credential = JSON.parse(await ok(...args));
    expect(credential).toMatchObject({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential" });
    expect(credential.status.token).toMatch(/^vct_/);
    expect(Date.parse(credential.status.expirationTimestamp)).toBeGreaterThan(Date.now());
  });
});

describe("watch", () => {
  beforeAll(async () => {
    await ok("create", "seen", "-n", "watched", "--wait");
  });

  it("streams table rows with the event type", async () => {
    const watching = suite.sandbox.start(["watch", "-n", "watched"]);
    await watching.waitForStdout(/^ADDED\s+seen\s+Running/m);
    watching.interrupt();
    const result = await watching.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toMatch(/^EVENT\s+NAME\s+PHASE/);
  });

  it("ends by itself, successfully, after --timeout", async () => {
    const result = await suite.sandbox.run(["watch", "-n", "watched", "--timeout", "1s"]);
    expect(result.code, result.stderr).toBe(0);
  });

  it("streams JSON lines, one per event, including later changes", async () => {
    const watching = suite.sandbox.start(["watch", "seen", "-n", "watched", "-o", "json"]);
    // The watch sends the current state first; the suspension then arrives as MODIFIED events.
    await watching.waitForStdout(/"type":\s*"ADDED"/);
    await ok("suspend", "seen", "-n", "watched", "--wait");
    await watching.waitForStdout(/PHASE_SUSPENDED/);
    watching.interrupt();
    const result = await watching.result;
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: "ADDED", vcluster: { name: "seen", status: { phase: "PHASE_RUNNING" } } });
    expect(events.slice(1).every((e: { type: string }) => e.type === "MODIFIED")).toBe(true);
    expect(events.at(-1).vcluster.status.phase).toBe("PHASE_SUSPENDED");
  });
});
