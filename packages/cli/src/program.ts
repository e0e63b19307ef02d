import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerCompletion } from "./commands/completion.js";
import { registerConfig } from "./commands/config.js";
import { registerConnect } from "./commands/connect.js";
import { registerCreate } from "./commands/create.js";
import { registerDelete } from "./commands/delete.js";
import { registerDescribe } from "./commands/describe.js";
import { registerGet, registerList } from "./commands/get-list.js";
import type { CommandKit } from "./commands/kit.js";
import { registerKubeconfig } from "./commands/kubeconfig.js";
import { registerLoginCommands } from "./commands/login.js";
import { registerResume, registerSuspend } from "./commands/power.js";
import { registerRestore } from "./commands/restore.js";
import { registerScale } from "./commands/scale.js";
import { registerServe } from "./commands/serve.js";
import { registerSnapshot } from "./commands/snapshot.js";
import { registerUpdate } from "./commands/update.js";
import { registerWait } from "./commands/wait.js";
import { registerWatch } from "./commands/watch.js";
import type { CliIo } from "./io.js";
import { type RunState, sessionFactory } from "./session.js";

function packageVersion(): string {
  // src/ and dist/ both sit one level below the package root.
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * Builds the command tree. Commander never exits the process or writes to the console itself:
 * errors come back to `run`, and all output goes through `io`, so the program runs in-process.
 */
export function buildProgram(io: CliIo, state: RunState): Command {
  const program = new Command("vcluster-api")
    .description("Manage virtual Kubernetes clusters (vclusters) through the open-vcluster API, like VMs.")
    .version(packageVersion(), "-v, --version")
    .option("--server <url>", "API server URL (env VCLUSTER_API_SERVER; default http://127.0.0.1:8080)")
    .option("--token <token>", "bearer token (env VCLUSTER_API_TOKEN)")
    .option("--context <name>", "context of the config file to use (env VCLUSTER_API_CONTEXT)")
    .option("--config <file>", "config file (env VCLUSTER_API_CONFIG; default ~/.config/vcluster-api/config.yaml)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError()
    .helpCommand(true);
  const kit: CommandKit = { io, session: sessionFactory(io, state) };
  for (const register of [
    registerCreate,
    registerGet,
    registerList,
    registerDescribe,
    registerUpdate,
    registerScale,
    registerSuspend,
    registerResume,
    registerDelete,
    registerSnapshot,
    registerRestore,
    registerKubeconfig,
    registerWatch,
    registerWait,
    registerConnect,
    registerServe,
    registerConfig,
    registerLoginCommands,
    registerCompletion,
  ]) {
    register(program, kit);
  }
  program.addHelpText(
    "after",
    `
Examples:
  vcluster-api create dev --wait
  vcluster-api list -A -o wide
  vcluster-api describe dev
  vcluster-api connect dev && kubectl get ns
  vcluster-api suspend dev && vcluster-api wait dev --for=phase=Suspended
  vcluster-api delete -l team=ci --wait

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 unavailable, 6 timeout,
7 unauthenticated or forbidden, 8 invalid argument.
`,
  );
  return program;
}
