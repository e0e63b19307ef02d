import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const toolchain = JSON.parse(readFileSync(join(ROOT, "scripts", "toolchain.json"), "utf8")) as {
  node: string;
  pnpm: string;
};
const serverPackage = JSON.parse(readFileSync(join(ROOT, "packages", "server", "package.json"), "utf8")) as {
  bin: Record<string, string>;
};
const stages = dockerfile.split(/^FROM /m).slice(1);
const finalStage = stages.at(-1) ?? "";

describe("the container image definition", () => {
  it("builds in one stage and runs from a slim one with the project's Node and pnpm", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toContain(`ARG NODE_VERSION=${toolchain.node}\n`);
    expect(dockerfile).toContain(`ARG PNPM_VERSION=${toolchain.pnpm}\n`);
    expect(finalStage).toMatch(/^node:\$\{NODE_VERSION\}-\S+-slim\n/);
  });

  it("runs the server's bin as an unprivileged user", () => {
    const user = /^USER (\S+)$/m.exec(finalStage)?.[1] ?? "";
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage)?.[1] ?? "[]";
    const bin = serverPackage.bin["vcluster-api-server"]?.replace(/^\.\//, "");
    expect(JSON.parse(entrypoint)).toEqual(["node", `/app/${bin}`]);
  });

  it("keeps the host's build output and dependencies out of the build context", () => {
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "**/dist", ".toolchain", ".data"]) expect(ignored).toContain(entry);
  });
});

// The image's build step, run here: the server gathered with its production dependencies only
// must start and serve on its own, with the console beside it, as in the image.
describe("the image's server folder", () => {
  const out = mkdtempSync(join(tmpdir(), "image-app-"));
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill("SIGKILL");
    rmSync(out, { recursive: true, force: true });
  });

  it("starts from `pnpm deploy --prod` output and answers its endpoints", async () => {
    const step = /pnpm --filter @open-vcluster\/server deploy --prod --legacy \/out\/server/.exec(dockerfile);
    expect(step, "the Dockerfile's deploy step").not.toBeNull();
    const app = join(out, "server");
    await run("pnpm", ["--filter", "@open-vcluster/server", "deploy", "--prod", "--legacy", "--prefer-offline", app], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const devOnly = ["typescript", "vitest", "express"];
    for (const name of devOnly) {
      expect(() => readFileSync(join(app, "node_modules", name, "package.json")), name).toThrow();
    }
    const consoleDir = join(out, "console");
    mkdirSync(consoleDir);
    writeFileSync(join(consoleDir, "index.html"), "<!doctype html><title>console</title>");
    server = spawn(process.execPath, [join(app, "dist", "bin.js")], {
      cwd: out,
      env: {
        PATH: process.env.PATH ?? "",
        VCLUSTER_API_PORT: "0",
        VCLUSTER_API_STORE: `sqlite:${join(out, "data", "vcluster.db")}`,
        VCLUSTER_API_CONSOLE_DIR: consoleDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let seen = "";
      server?.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (\S+)/.exec(seen);
        if (match?.[1]) resolve(match[1]);
      });
      server?.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect(((await (await fetch(`${url}/version`)).json()) as { name: string }).name).toBe("@open-vcluster/server");
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("vcluster_api_rpcs_total");
    expect(await (await fetch(`${url}/`)).text()).toContain("<title>console</title>");
    server.kill("SIGTERM");
    expect(await new Promise((r) => server?.once("exit", r))).toBe(0);
    // Gathering the production dependencies copies hundreds of packages: slow on a loaded machine.
  }, 600_000);
});
