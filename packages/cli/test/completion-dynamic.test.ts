import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli, startTestServer, useCliAgainstServer } from "./cli-harness.js";

const cli = useCliAgainstServer();
const run = promisify(execFile);

/** `vcluster-api __complete …`: the candidates, one per line. */
async function complete(...words: string[]): Promise<string[]> {
  const result = await cli.sandbox.run(["__complete", ...words]);
  expect(result).toMatchObject({ code: 0, stderr: "" });
  return result.stdout.split("\n").filter(Boolean);
}

let snapshotId = "";
beforeAll(async () => {
  await cli.ok("create", "dev", "--wait");
  await cli.ok("create", "demo");
  await cli.ok("create", "web", "-n", "team-a");
  snapshotId = (await cli.json("snapshot", "create", "dev", "--name", "before-upgrade", "--wait")).id;
  await cli.ok("config", "set-context", "staging", "--server", "http://127.0.0.1:1");
  await cli.ok("config", "set-context", "prod", "--server", "http://127.0.0.1:1");
});

describe("__complete", () => {
  it("offers the vclusters of the namespace to commands taking a name", async () => {
    expect(await complete("get", "")).toEqual(["demo", "dev"]);
    expect(await complete("get", "dev")).toEqual(["dev"]);
    expect(await complete("delete", "demo", "de")).toEqual(["demo", "dev"]);
    expect(await complete("get", "-n", "team-a", "")).toEqual(["web"]);
    expect(await complete("scale", "--namespace=team-a", "")).toEqual(["web"]);
    expect(await complete("kubeconfig", "token", "--name", "")).toEqual(["demo", "dev"]);
    expect(await complete("create", "")).toEqual([]);
  });

  it("offers the namespaces that hold vclusters to -n and --namespace", async () => {
    expect(await complete("get", "-n", "")).toEqual(["default", "team-a"]);
    expect(await complete("list", "--namespace", "te")).toEqual(["team-a"]);
  });

  it("offers snapshot names, and ids once one is being typed", async () => {
    expect(await complete("snapshot", "get", "")).toEqual(["before-upgrade"]);
    expect(await complete("snapshots", "rm", snapshotId.slice(0, 4))).toEqual([snapshotId]);
    expect(await complete("restore", "dev", "--snapshot", "")).toEqual(["before-upgrade"]);
    expect(await complete("restore", "demo", "--snapshot", "")).toEqual([]);
  });

  it("offers the config file's contexts without calling a server", async () => {
    expect(await complete("config", "use-context", "")).toEqual(["staging", "prod"]);
    expect(await complete("--context", "st")).toEqual(["staging"]);
  });

  it("asks the server given on the command line", async () => {
    const other = await startTestServer();
    try {
      expect(await complete("--server", other.url, "get", "")).toEqual([]);
      await cli.ok("create", "elsewhere", "--server", other.url);
      expect(await complete("get", "--server", other.url, "")).toEqual(["elsewhere"]);
    } finally {
      await other.close();
    }
  });

  it("ignores flags it would otherwise act on", async () => {
    expect(await complete("get", "--help", "--version", "")).toEqual(["demo", "dev"]);
  });
});

describe("__complete without a server", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let silentUrl = "";
  beforeAll(async () => {
    // Accepts connections and never answers: only the completion timeout ends the call.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    silentUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("prints nothing and exits 0 when the server refuses connections", async () => {
    const closed = await startTestServer();
    await closed.close();
    for (const words of [
      ["get", ""],
      ["get", "-n", ""],
    ]) {
      const result = await runCli(["__complete", ...words], { env: { VCLUSTER_API_SERVER: closed.url } });
      expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    }
  });

  it("prints nothing and exits 0 when the server does not answer in time", async () => {
    const result = await runCli(["__complete", "snapshot", "get", ""], {
      env: { VCLUSTER_API_SERVER: silentUrl, VCLUSTER_API_COMPLETION_TIMEOUT: "100ms" },
    });
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("prints nothing for a malformed server URL", async () => {
    const result = await runCli(["__complete", "--server", "ftp://x", "get", ""]);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});

describe("completion scripts", () => {
  it("bash completes vcluster, namespace and snapshot names from the server", async () => {
    // The script runs `vcluster-api` from PATH, as an installed CLI would be.
    const bin = cli.sandbox.path("bin");
    await mkdir(bin, { recursive: true });
    await writeFile(
      `${bin}/vcluster-api`,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`,
    );
    await chmod(`${bin}/vcluster-api`, 0o755);
    const script = cli.sandbox.path("completion.bash");
    await writeFile(script, (await runCli(["completion", "bash"])).stdout);
    const completeInBash = async (words: string[], server = cli.sandbox.env.VCLUSTER_API_SERVER ?? "") => {
      const line = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _vcluster_api; echo "\${COMPREPLY[*]}"`;
      const env = { ...cli.sandbox.env, VCLUSTER_API_SERVER: server, PATH: `${bin}:${process.env.PATH ?? ""}` };
      // Asynchronously: the server answering the script runs in this process.
      const { stdout } = await run("bash", ["-c", line], { encoding: "utf8", env });
      return stdout.trim().split(" ");
    };
    expect(await completeInBash(["vcluster-api", "get", "dev"])).toEqual(["dev"]);
    expect(await completeInBash(["vcluster-api", "suspend", "-n", "team-a", ""])).toEqual(["web"]);
    expect(await completeInBash(["vcluster-api", "get", "-n", ""])).toEqual(["default", "team-a"]);
    // "befo" cannot start a snapshot id (ids are hexadecimal UUIDs), so only the name matches.
    expect(await completeInBash(["vcluster-api", "snapshot", "get", "befo"])).toEqual(["before-upgrade"]);
    // Static completions still work beside them, without calling back.
    expect(await completeInBash(["vcluster-api", "get", "-o", "j"])).toEqual(["json", "jsonpath="]);
    expect(await completeInBash(["vcluster-api", "get", "--na"])).toEqual(["--namespace"]);
    expect(await completeInBash(["vcluster-api", "get", ""], "http://127.0.0.1:1")).toEqual([""]);
  });

  it("zsh and fish scripts call back into the CLI for names", async () => {
    const zsh = (await runCli(["completion", "zsh"])).stdout;
    expect(zsh).toMatch(/"get\|"\|/);
    expect(zsh).toMatch(/vcluster-api __complete "\$\{\(@\)words\[2,CURRENT\]\}"/);
    const fish = (await runCli(["completion", "fish"])).stdout;
    expect(fish).toContain("vcluster-api __complete $words $current");
    expect(fish).toMatch(/__fish_seen_subcommand_from get.* -l namespace -s n -x -a '\(__vcluster_api_complete\)'/);
    expect(fish).toMatch(/__fish_seen_subcommand_from restore.* -l snapshot -x -a '\(__vcluster_api_complete\)'/);
  });
});
