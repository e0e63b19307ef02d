import type { Command } from "commander";
import { examples } from "../command-kit.js";
import { UsageError } from "../errors.js";
import type { CommandKit } from "./kit.js";

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return; // Without a signal the server runs until the process ends.
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

const SERVE_EXAMPLES = [
  "vcluster-api serve",
  "vcluster-api serve --store memory --port 9090 --time-scale 0",
  "vcluster-api serve --host 0.0.0.0 --auth-tokens tokens.yaml --tls-cert tls.crt --tls-key tls.key",
];

/**
 * `serve` hands its flags to the reference server's own parser, so it takes exactly the flags,
 * environment variables and defaults of `vcluster-api-server` and cannot drift from them.
 */
export function registerServe(program: Command, kit: CommandKit): void {
  const command = program
    .command("serve")
    .description("run the reference server in this process (same flags as vcluster-api-server)")
    .argument("[flags...]", "the flags of vcluster-api-server; `vcluster-api serve --help` lists them")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments();
  examples(command, SERVE_EXAMPLES);
  command.action(async (flags: string[]) => {
    // Loaded on demand: the server (and its storage engines) is not needed by any other command.
    const { hideSqliteExperimentalWarning } = await import("@open-vcluster/server/process-warnings");
    hideSqliteExperimentalWarning();
    const { parseServerArgs, SERVER_USAGE, startServer } = await import("@open-vcluster/server");
    let options: ReturnType<typeof parseServerArgs>;
    try {
      options = parseServerArgs(flags, kit.io.env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (options === "help") {
      const usage = SERVER_USAGE.replace("vcluster-api-server", "vcluster-api serve");
      kit.io.stdout.write(`${usage}\nExamples:\n${SERVE_EXAMPLES.map((line) => `  ${line}`).join("\n")}\n`);
      return;
    }
    const server = await startServer(options);
    kit.io.stdout.write(`vcluster-api listening on ${server.url}\n`);
    await untilAborted(kit.io.signal);
    await server.close();
  });
}
