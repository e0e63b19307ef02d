import { readFile } from "node:fs/promises";
import type { RunningServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CliSandbox, startTestServer } from "./cli-harness.js";

let server: RunningServer;
let other: RunningServer;
let cli: CliSandbox;

beforeAll(async () => {
  [server, other] = await Promise.all([startTestServer(), startTestServer()]);
  cli = await CliSandbox.create();
});

afterAll(async () => {
  await Promise.all([server?.close(), other?.close()]);
  await cli?.dispose();
});

describe("config contexts", () => {
  it("creates contexts, switches between them and uses their server and namespace", async () => {
    const set = await cli.run(["config", "set-context", "main", "--server", server.url, "-n", "team-a"]);
    expect(set).toMatchObject({ code: 0, stdout: 'Context "main" created.\n' });
    await cli.run(["config", "set-context", "other", "--server", other.url, "--token", "secret-token-1"]);
    expect((await cli.run(["config", "current-context"])).stdout).toBe("main\n");

    expect((await cli.run(["create", "in-context"])).stdout).toBe("vcluster team-a/in-context created\n");
    const listed = await cli.run(["list"]);
    expect(listed.stdout.split("\n")[0]).toMatch(/^NAME\s/);
    expect(listed.stdout).toMatch(/^in-context\s/m);
    expect((await cli.run(["list", "-A", "-o", "json"])).stdout).toContain('"namespace": "team-a"');

    // The other server has no vclusters: picking its context by flag, by env and by use-context.
    expect((await cli.run(["--context", "other", "list"])).stderr).toContain("No vclusters found");
    expect((await cli.run(["list"], { env: { VCLUSTER_API_CONTEXT: "other" } })).stderr).toContain(
      "No vclusters found",
    );
    expect((await cli.run(["config", "use-context", "other"])).stdout).toBe('Switched to context "other".\n');
    expect((await cli.run(["get", "in-context", "-n", "team-a"])).code).toBe(3);
    // Flags and VCLUSTER_API_SERVER still beat the context.
    expect((await cli.run(["get", "in-context", "-n", "team-a", "--server", server.url])).code).toBe(0);
    expect(
      (await cli.run(["get", "in-context", "-n", "team-a"], { env: { VCLUSTER_API_SERVER: server.url } })).code,
    ).toBe(0);
  });

  it("lists, views (tokens redacted unless --raw) and deletes contexts", async () => {
    const contexts = await cli.run(["config", "get-contexts"]);
    expect(contexts.stdout).toMatch(/^CURRENT\s+NAME\s+SERVER\s+NAMESPACE\s+AUTH$/m);
    expect(contexts.stdout).toMatch(/^\*\s+other\s+http:\/\/127\.0\.0\.1:\d+\s+token$/m);
    const view = parse((await cli.run(["config", "view"])).stdout);
    expect(view.contexts.find((c: { name: string }) => c.name === "other").token).toBe("REDACTED");
    const raw = JSON.parse((await cli.run(["config", "view", "--raw", "-o", "json"])).stdout);
    expect(raw.contexts.find((c: { name: string }) => c.name === "other").token).toBe("secret-token-1");
    expect((await cli.run(["config", "delete-context", "other"])).code).toBe(0);
    const file = parse(await readFile(cli.path("config.yaml"), "utf8"));
    expect(file).toEqual({ contexts: [{ name: "main", server: server.url, namespace: "team-a" }] });
    expect((await cli.run(["config", "use-context", "other"])).code).toBe(3);
    expect((await cli.run(["--context", "nope", "list"])).code).toBe(2);
  });

  it("honours --config and VCLUSTER_API_CONFIG for the file location", async () => {
    const elsewhere = cli.path("elsewhere.yaml");
    await cli.run(["--config", elsewhere, "config", "set-context", "x", "--server", other.url]);
    expect(parse(await readFile(elsewhere, "utf8"))["current-context"]).toBe("x");
    const viaEnv = await cli.run(["config", "current-context"], { env: { VCLUSTER_API_CONFIG: elsewhere } });
    expect(viaEnv.stdout).toBe("x\n");
  });
});
