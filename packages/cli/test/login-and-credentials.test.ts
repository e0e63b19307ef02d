import { spawn } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import type { RunningServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { API_AUDIENCE, CLI_CLIENT, TestIssuer } from "../../server/test/oidc-issuer.js";
import { BIN, CliSandbox, startTestServer } from "./cli-harness.js";

let issuer: TestIssuer;
let server: RunningServer;
let cli: CliSandbox;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  cli = await CliSandbox.create();
  const tokens = cli.path("tokens.yaml");
  await writeFile(tokens, "tokens:\n  - { token: exec-plugin-token-1, subject: robot, admin: true }\n");
  server = await startTestServer({
    authTokensFile: tokens,
    auth: {
      authenticators: [
        {
          oidc: {
            issuer: issuer.url,
            audiences: [CLI_CLIENT, API_AUDIENCE],
            claims: { projectPrefix: "vcluster:", adminGroups: ["platform-admins"] },
          },
        },
      ],
    },
  });
});

afterAll(async () => {
  await server?.close();
  await issuer?.close();
  await cli?.dispose();
});

/** Runs `login`, approving the sign-in in the issuer's pages as `person` once the CLI shows the link. */
function loginAs(person: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "login", ...args], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...cli.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let approving: Promise<void> | undefined;
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const link = /open (\S+)/.exec(stderr)?.[1];
      if (link && !approving) approving = issuer.approveDevice(link, person).catch(reject);
    });
    child.on("error", reject);
    child.on("close", async (code) => {
      await approving;
      resolve({ code, stderr });
    });
  });
}

describe("signing in and credential commands", () => {
  it("logs in with the device flow, keeps the refresh token in a 0600 file and calls the API as that person", async () => {
    await cli.run(["config", "set-context", "prod", "--server", server.url, "--current"]);
    const login = await loginAs("alice", ["--issuer", issuer.url, "--client-id", CLI_CLIENT, "--scope", "groups"]);
    expect(login.stderr).toContain("and confirm the code");
    expect(login).toMatchObject({ code: 0 });
    expect(login.stderr).toContain('Signed in; context "prod"');

    const file = cli.env.VCLUSTER_API_CONFIG as string;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = parse(await (await import("node:fs/promises")).readFile(file, "utf8"));
    expect(saved.contexts[0].oidc).toMatchObject({ issuer: issuer.url, clientId: CLI_CLIENT, scopes: ["groups"] });
    expect(saved.contexts[0].oidc.refreshToken).toEqual(expect.any(String));
    expect((await cli.run(["config", "view"])).stdout).toContain("refreshToken: REDACTED");

    const created = await cli.run(["create", "alices", "--label", "open-vcluster.io/project=blue", "-o", "json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ owner: "alice", project: "blue" });
    expect((await cli.run(["get", "alices"])).code).toBe(0);

    expect((await cli.run(["logout"])).stderr).toContain('Signed out of context "prod"');
    const refused = await cli.run(["get", "alices"]);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain("vcluster-api login");
  }, 120_000); // the issuer asks the CLI to poll every 5 s while the person signs in

  it("reads the token from a credential command in kubectl's exec-plugin format", async () => {
    const plugin = cli.path("plugin.mjs");
    await writeFile(
      plugin,
      `console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: process.env.PLUGIN_TOKEN, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));\n`,
    );
    const file = cli.env.VCLUSTER_API_CONFIG as string;
    const config = parse(await (await import("node:fs/promises")).readFile(file, "utf8"));
    config.contexts.push({
      name: "robot",
      server: server.url,
      exec: { command: process.execPath, args: [plugin], env: { PLUGIN_TOKEN: "exec-plugin-token-1" } },
    });
    await writeFile(file, (await import("yaml")).stringify(config), { mode: 0o600 });
    const listed = await cli.run(["--context", "robot", "list", "-A", "-o", "json"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("alices");

    config.contexts.at(-1).exec.env.PLUGIN_TOKEN = "not-a-valid-token";
    await writeFile(file, (await import("yaml")).stringify(config), { mode: 0o600 });
    expect((await cli.run(["--context", "robot", "list"])).code).toBe(7);
  }, 60_000);
});
