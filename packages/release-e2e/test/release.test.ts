// Releases every SDK package the way a maintainer does — `pnpm version-packages`, then the
// publishing half of `pnpm release` — into a throwaway Verdaccio, in a scratch copy of the
// repository, then uses the published packages from fresh projects outside the workspace exactly
// as users do: `npm install`, an ESM program, a strict TypeScript build, a Vite bundle, an
// embedded server and `npx`.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackgroundProcess, startBackground } from "./background-process.js";
import { type LocalRegistry, startLocalRegistry } from "./local-registry.js";
import { runCommand } from "./run-command.js";
import { copyWorkspace } from "./scratch-workspace.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
const published = ["api", "core", "client", "web", "server", "cli"].map((name) => `@open-vcluster/${name}`);
// What users of the registry get for third-party packages: whatever npm is configured to use.
const upstream = process.env.RELEASE_E2E_UPSTREAM_REGISTRY ?? "https://registry.npmjs.org/";
// Consumers use released tools, pinned so that a new release upstream cannot break the test.
const consumerTypeScript = "typescript@5.9.3";
const consumerVite = "vite@8.3.8";
const consumerNodeTypes = "@types/node@24.19.2";

let tmp: string;
let registry: LocalRegistry | undefined;
let server: BackgroundProcess | undefined;
let env: NodeJS.ProcessEnv;
let version: string;

/** The caller's environment minus what an outer pnpm, turbo or vitest run leaves behind. */
function cleanEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([key]) => !/^(npm_|pnpm_|turbo_|vitest|node_options$|init_cwd$|force_color$)/i.test(key),
  );
  return { ...Object.fromEntries(inherited), TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" };
}

async function project(name: string, dependencies: string[]): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`);
  // The public registry is outside the project's control: an install that stalls or fails is
  // tried once more before the test fails with its output.
  const install = () =>
    runCommand("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...dependencies], {
      cwd: dir,
      env,
      timeoutMs: 300_000,
    });
  await install().catch(install);
  return dir;
}

async function packument(name: string): Promise<{ versions: Record<string, Record<string, unknown>> }> {
  const response = await fetch(new URL(name.replace("/", "%2f"), registry?.url));
  expect(response.status, `${name} is not in the local registry`).toBe(200);
  return (await response.json()) as { versions: Record<string, Record<string, unknown>> };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "release-e2e-"));
  env = cleanEnv();
  await mkdir(join(tmp, "registry"));
  registry = await startLocalRegistry(join(tmp, "registry"), env);
  const host = new URL(registry.url).host;
  // A user config of our own: our scope from the local registry (with a throwaway token),
  // everything else from the upstream registry directly, as users get it; caches in the temp dir.
  const npmrc = join(tmp, ".npmrc");
  await writeFile(
    npmrc,
    `registry=${upstream}\n@open-vcluster:registry=${registry.url}\n//${host}/:_authToken=release-e2e-throwaway\n`,
  );
  env = {
    ...env,
    npm_config_userconfig: npmrc,
    npm_config_registry: upstream,
    npm_config_cache: join(tmp, "npm-cache"),
    npm_config_update_notifier: "false",
  };
}, 900_000);

afterAll(async () => {
  await server?.stop();
  await registry?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 120_000);

describe("a release through a local registry", () => {
  it("versions the SDK packages together and writes their changelogs", async () => {
    const workspace = join(tmp, "workspace");
    await copyWorkspace(repoRoot, workspace, env);
    await writeFile(
      join(workspace, ".changeset", "release-e2e.md"),
      `---\n"@open-vcluster/client": patch\n---\n\nRelease rehearsal.\n`,
    );
    await runCommand("pnpm", ["run", "version-packages"], { cwd: workspace, env });

    const versions = new Set<string>();
    for (const name of published) {
      const dir = join(workspace, "packages", name.split("/")[1] ?? "");
      versions.add(JSON.parse(await readFile(join(dir, "package.json"), "utf8")).version);
      // One changeset for one package still releases the whole fixed group.
      expect(await readFile(join(dir, "CHANGELOG.md"), "utf8")).toContain("## ");
    }
    expect([...versions]).toHaveLength(1);
    version = [...versions][0] ?? "";
    // The release lints what it packs (publint, attw) only for packages with the script.
    const unlinted: string[] = [];
    for (const name of published) {
      const manifest = JSON.parse(
        await readFile(join(workspace, "packages", name.split("/")[1] ?? "", "package.json"), "utf8"),
      );
      if (!manifest.scripts?.["lint:package"]) unlinted.push(name);
    }
    expect(unlinted, "published packages without a lint:package script").toEqual([]);
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version).not.toBe("0.0.0");
    expect(await readFile(join(workspace, "packages", "client", "CHANGELOG.md"), "utf8")).toContain(
      "Release rehearsal.",
    );
    // The Go module moves with the fixed group.
    expect(await readFile(join(workspace, "go", "vcluster", "version.go"), "utf8")).toContain(
      `const Version = "${version}"`,
    );
    // The Python package moves with the fixed group.
    expect(await readFile(join(workspace, "python", "pyproject.toml"), "utf8")).toContain(`version = "${version}"`);
  }, 900_000);

  it("publishes every SDK package with the release command, with real dependency ranges", async () => {
    expect(version, "the versioning step did not run").toBeTruthy();
    const workspace = join(tmp, "workspace");
    const { stdout, stderr } = await runCommand("pnpm", ["run", "release:publish"], {
      cwd: workspace,
      env,
      timeoutMs: 1_200_000,
    });
    for (const name of published) expect(`${stdout}${stderr}`).toContain(name);

    const problems: string[] = [];
    for (const name of published) {
      const manifest = (await packument(name)).versions[version];
      if (!manifest) {
        problems.push(`${name}@${version} was not published`);
        continue;
      }
      const text = JSON.stringify(manifest);
      if (text.includes("workspace:")) problems.push(`${name} was published with a workspace: range`);
      if (text.includes("@open-vcluster/source")) problems.push(`${name} was published with the source condition`);
      const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
      for (const [dependency, range] of Object.entries(dependencies)) {
        if (dependency.startsWith("@open-vcluster/") && range !== version) {
          problems.push(`${name} depends on ${dependency}@${range}, not the version released with it`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The Go module is released under the tag Go tooling resolves for a module in go/.
    const tags = await runCommand("git", ["tag", "--list", "go/v*"], { cwd: workspace, env });
    expect(tags.stdout.trim()).toBe(`go/v${version}`);
    // Only the published packages: private ones never leave the workspace.
    const privateOne = await fetch(new URL("@open-vcluster%2fconsole", registry?.url));
    expect(privateOne.status).toBe(404);
  }, 1_260_000);

  it("installs into fresh projects, runs the server from the package and an ESM client against it", async () => {
    expect(version, "the publishing step did not run").toBeTruthy();
    // One install at a time: concurrent npm processes sharing a cache have been seen to stall.
    const serverDir = await project("server-consumer", [`@open-vcluster/server@${version}`]);
    const clientDir = await project("client-consumer", [
      `@open-vcluster/client@${version}`,
      consumerTypeScript,
      consumerNodeTypes,
    ]);
    const webDir = await project("web-consumer", [`@open-vcluster/web@${version}`, consumerVite]);

    server = await startBackground(
      join(serverDir, "node_modules", ".bin", "vcluster-api-server"),
      ["--host", "127.0.0.1", "--port", "0", "--store", "memory", "--time-scale", "0"],
      { cwd: serverDir, env, ready: /vcluster-api-server listening on (\S+)/ },
    );
    const url = server.ready;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await cp(join(fixtures, "client"), clientDir, { recursive: true });
    const lifecycle = await runCommand(process.execPath, ["lifecycle.mjs", url], { cwd: clientDir, env });
    expect(lifecycle.stdout.trim().split("\n")).toEqual([
      "created release/from-npm",
      "phase RUNNING",
      "listed from-npm",
      "missing is not found: true",
    ]);

    // Strict TypeScript from the registry, against the installed declaration files.
    await runCommand(join(clientDir, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], { cwd: clientDir, env });

    await cp(join(fixtures, "server", "embed.mjs"), join(serverDir, "embed.mjs"));
    const embedded = await runCommand(process.execPath, ["embed.mjs"], { cwd: serverDir, env });
    expect(embedded.stdout.trim()).toBe("embedded healthz 200, ListVClusters 200 {}");

    await cp(join(fixtures, "web"), webDir, { recursive: true });
    await runCommand(join(webDir, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], {
      cwd: webDir,
      env,
    });
    const html = await readFile(join(webDir, "dist", "index.html"), "utf8");
    const script = /src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, `no script in the built page:\n${html}`).toBeDefined();
    const bundle = await readFile(join(webDir, "dist", script ?? ""), "utf8");
    // The web client's own code made it into the bundle, and no Node built-in came along.
    expect(bundle.includes("browsers cannot use the gRPC protocol"), "the web transport is not in the bundle").toBe(
      true,
    );
    expect(bundle.includes("paginateVClusters"), "the client helpers are not in the bundle").toBe(true);
    expect(/from\s*["']node:/.test(bundle), "the bundle imports a Node built-in").toBe(false);

    const cliDir = join(tmp, "cli-user");
    await mkdir(cliDir);
    const npx = (...args: string[]) =>
      runCommand("npx", ["--yes", "--package", `@open-vcluster/cli@${version}`, "--", "vcluster-api", ...args], {
        cwd: cliDir,
        env,
      });
    expect((await npx("--version")).stdout.trim()).toBe(version);
    const listed = await npx("list", "--all-namespaces", "--server", url, "-o", "json");
    const items = (JSON.parse(listed.stdout) as { items: { name: string; namespace: string }[] }).items;
    expect(items.map((vc) => `${vc.namespace}/${vc.name}`)).toEqual(["release/from-npm"]);
  }, 1_800_000);

  it("builds a fresh Go module that uses the released Go SDK and runs it against the server", async () => {
    expect(version, "the versioning step did not run").toBeTruthy();
    const url = server?.ready;
    expect(url, "the server from the registry is not running").toBeTruthy();
    const dir = join(tmp, "go-consumer");
    await mkdir(dir);
    await cp(join(fixtures, "go", "main.go"), join(dir, "main.go"));
    // The SDK comes from the released workspace copy, at the version just released, as
    // `go get github.com/open-vcluster/open-vcluster/go@v<version>` would resolve the go/ tag.
    const sdk = join(tmp, "workspace", "go");
    await writeFile(
      join(dir, "go.mod"),
      `module example.com/go-consumer\n\ngo 1.26.0\n\nrequire github.com/open-vcluster/open-vcluster/go v${version}\n\nreplace github.com/open-vcluster/open-vcluster/go v${version} => ${sdk}\n`,
    );
    await runCommand("go", ["mod", "tidy"], { cwd: dir, env, timeoutMs: 180_000 });
    await runCommand("go", ["vet", "./..."], { cwd: dir, env, timeoutMs: 180_000 });
    const { stdout } = await runCommand("go", ["run", ".", url ?? ""], { cwd: dir, env, timeoutMs: 180_000 });
    expect(stdout.trim().split("\n")).toEqual([
      `sdk ${version}`,
      "created release-go/from-go",
      "phase RUNNING",
      "listed from-go",
      "missing is not found: true",
      "deleted",
    ]);
  }, 900_000);

  it("builds the Python sdist and wheel, installs the wheel into a fresh virtual environment and runs it", async () => {
    expect(version, "the versioning step did not run").toBeTruthy();
    expect(server, "the server from the registry is not running").toBeDefined();
    const workspace = join(tmp, "workspace");
    await runCommand(process.execPath, [join("python", "scripts", "build.mjs")], { cwd: workspace, env });
    const dist = join(workspace, "python", "dist");
    const built = (await readdir(dist)).filter((file) => /\.(whl|tar\.gz)$/.test(file)).sort();
    expect(built).toEqual([`open_vcluster-${version}-py3-none-any.whl`, `open_vcluster-${version}.tar.gz`]);

    const venv = join(tmp, "python-consumer");
    const python = process.env.OPEN_VCLUSTER_PYTHON ?? "python3";
    await runCommand(python, ["-m", "venv", venv], { cwd: tmp, env });
    const venvPython = join(venv, "bin", "python");
    // Its dependencies (connectrpc, protobuf-py) come from the package index, as for users.
    const install = () =>
      runCommand(
        venvPython,
        ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", join(dist, built[0] ?? "")],
        { cwd: tmp, env, timeoutMs: 180_000 },
      );
    await install().catch(install);
    await cp(join(fixtures, "python", "lifecycle.py"), join(tmp, "lifecycle.py"));
    const run = await runCommand(venvPython, [join(tmp, "lifecycle.py"), server?.ready ?? ""], { cwd: tmp, env });
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("created release/from-pypi, phase RUNNING");
    expect(lines[1]).toContain("'from-pypi'");
    expect(lines.slice(2)).toEqual([
      "missing is not found: NOT_FOUND",
      expect.stringContaining("async listed ["),
      "typed: True",
      `version ${version}`,
    ]);
    expect(lines[3]).toContain("'from-pypi'");
  }, 900_000);
});
