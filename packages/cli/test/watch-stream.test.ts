import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { RunningServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, CliSandbox, startTestServer } from "./cli-harness.js";

/** A CLI process whose output can be awaited as it arrives. */
class LiveCli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;
  private waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => this.append("stdout", chunk));
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => this.append("stderr", chunk));
    this.exited = new Promise((resolve) => this.child.on("close", resolve));
  }

  private append(stream: "stdout" | "stderr", chunk: string) {
    this[stream] += chunk;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once the stream's text so far matches. */
  async until(stream: "stdout" | "stderr", pattern: RegExp): Promise<void> {
    while (!pattern.test(this[stream])) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  interrupt(): void {
    this.child.kill("SIGINT");
  }
}

let server: RunningServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer();
  cli = await CliSandbox.create({ VCLUSTER_API_SERVER: server.url });
  for (const name of ["a", "a-much-longer-name", "mid-size"]) {
    expect((await cli.run(["create", name, "-n", "aligned", "--wait"])).code).toBe(0);
  }
  expect((await cli.run(["suspend", "mid-size", "-n", "aligned", "--wait"])).code).toBe(0);
});

afterAll(async () => {
  await server?.close();
  await cli?.dispose();
});

function columnStarts(line: string): number[] {
  return [...line.matchAll(/(?:^|\s{2,})(\S)/g)].map((m) => (m.index ?? 0) + m[0].length - 1);
}

describe("watch", () => {
  it("aligns every row under the header, including changes that arrive later", async () => {
    const watch = new LiveCli(["watch", "-n", "aligned"], cli.env);
    await watch.until("stdout", /mid-size.*\n/);
    expect((await cli.run(["resume", "mid-size", "-n", "aligned", "--wait"])).code).toBe(0);
    await watch.until("stdout", /MODIFIED\s+mid-size\s+Running/);
    watch.interrupt();
    expect(await watch.exited).toBe(0);
    const lines = watch.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^EVENT\s+NAME\s+PHASE\s+VERSION\s+READY\s+AGE$/);
    const header = columnStarts(lines[0] ?? "");
    for (const line of lines.slice(1)) expect(columnStarts(line), line).toEqual(header);
    expect(lines.filter((line) => line.startsWith("ADDED"))).toHaveLength(3);
  });

  it("says on stderr when the connection is lost and when it is back, and stops at once on Ctrl-C", {
    timeout: 120_000,
  }, async () => {
    // A durable store, so the restarted server still knows the versions the watch resumes from.
    const store = `sqlite:${cli.path("restart.db")}` as const;
    const own = await startTestServer({ store });
    const port = Number(new URL(own.url).port);
    const watch = new LiveCli(["watch", "-A", "--server", own.url], cli.env);
    expect((await cli.run(["create", "seen", "--server", own.url, "--wait"])).code).toBe(0);
    await watch.until("stdout", /seen\s+Running/);
    await own.close();
    await watch.until("stderr", /watch: connection lost/);
    const again = await startTestServer({ port, store });
    try {
      await watch.until("stderr", /watch: connection back/);
      await again.close();
      await watch.until("stderr", /connection lost[\s\S]*connection back[\s\S]*connection lost/);
      // Interrupted while reconnecting to a server that is gone: it must not wait for it.
      watch.interrupt();
      expect(await watch.exited).toBe(0);
    } finally {
      await again.close();
    }
  });
});
