import { spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, CliSandbox, runCli } from "./cli-harness.js";

let cli: CliSandbox;
beforeAll(async () => {
  cli = await CliSandbox.create();
});
afterAll(() => cli?.dispose());

const COMMANDS = [
  "create",
  "get",
  "list",
  "update",
  "scale",
  "suspend",
  "resume",
  "delete",
  "snapshot create",
  "snapshot list",
  "snapshot get",
  "snapshot delete",
  "restore",
  "kubeconfig",
  "watch",
  "serve",
  "config set-context",
  "completion",
];

describe.concurrent("help", () => {
  it.each(COMMANDS)("%s --help shows usage and examples", async (command) => {
    const result = await runCli([...command.split(" "), "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: vcluster-api ${command}`);
    expect(result.stdout).toMatch(/Examples:\n {2}.*vcluster-api /);
  });

  it("documents the exit codes in the top-level help", async () => {
    const result = await runCli(["--help"]);
    expect(result.stdout).toMatch(/Exit codes: 0 ok, 1 error, 2 usage, 3 not found/);
  });
});

describe.concurrent("completion", () => {
  it("bash completes commands, subcommands, flags and flag values", async () => {
    const script = cli.path("completion.bash");
    await writeFile(script, (await runCli(["completion", "bash"])).stdout);
    const complete = (words: string[]) => {
      const line = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _vcluster_api; echo "\${COMPREPLY[*]}"`;
      return spawnSync("bash", ["-c", line], { encoding: "utf8" }).stdout.trim().split(" ");
    };
    expect(complete(["vcluster-api", "sn"])).toEqual(["snapshot", "snapshots"]);
    expect(complete(["vcluster-api", "snapshot", "c"])).toEqual(["create"]);
    expect(complete(["vcluster-api", "snapshots", "create", "--inc"])).toEqual(["--include-workloads"]);
    expect(complete(["vcluster-api", "list", "-o", ""])).toEqual([
      "table",
      "wide",
      "json",
      "yaml",
      "name",
      "jsonpath=",
      "custom-columns=",
    ]);
    expect(complete(["vcluster-api", "create", "--wa"])).toEqual(["--wait"]);
    expect(complete(["vcluster-api", "get", "--ser"])).toEqual(["--server"]);
  });

  it("zsh and fish scripts register for the command and know every command", async () => {
    const zsh = (await runCli(["completion", "zsh"])).stdout;
    expect(zsh.startsWith("#compdef vcluster-api\n")).toBe(true);
    expect(zsh).toContain('"snapshot") reply=(create list ls get delete rm) ;;');
    const fish = (await runCli(["completion", "fish"])).stdout;
    expect(fish).toContain("complete -c vcluster-api -n '__fish_use_subcommand' -a 'restore'");
    expect(fish).toMatch(
      /__fish_seen_subcommand_from list.* -l output -s o -x -a 'table wide json yaml name jsonpath= custom-columns='/,
    );
  });

  it("rejects an unknown shell as a usage error", async () => {
    const result = await runCli(["completion", "tcsh"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
  });
});

describe("serve", () => {
  it("runs the reference server until interrupted, and the CLI can use it", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--store", "memory", "--port", "0", "--time-scale", "0"], {
      env: { PATH: process.env.PATH ?? "", VCLUSTER_API_HEARTBEAT_INTERVAL: "1000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        const match = /vcluster-api listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const created = await cli.run(["create", "served", "--server", url, "--wait"]);
    expect(created.code, created.stderr).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("rejects a bad store spec as a usage error", async () => {
    const result = await runCli(["serve", "--store", "mysql://x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--store: expected memory, sqlite:<path> or postgres://");
  });
});
