import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { configPath, loadConfig, saveConfig } from "./config-file.js";
import { DEFAULT_SERVER, resolveConnection } from "./connection.js";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vcluster-api-config-"));
  file = join(dir, "config.yaml");
  await saveConfig(file, {
    currentContext: "local",
    contexts: [
      { name: "local", server: "http://127.0.0.1:9001", namespace: "team-a" },
      { name: "prod", server: "https://prod.example.com", token: "prod-token", namespace: "team-b" },
    ],
  });
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe("configPath", () => {
  it("prefers the flag, then VCLUSTER_API_CONFIG, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(configPath("/a.yaml", { VCLUSTER_API_CONFIG: "/b.yaml" }, "/home/u")).toBe("/a.yaml");
    expect(configPath(undefined, { VCLUSTER_API_CONFIG: "/b.yaml" }, "/home/u")).toBe("/b.yaml");
    expect(configPath(undefined, { XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe(
      join("/xdg", "vcluster-api", "config.yaml"),
    );
    expect(configPath(undefined, {}, "/home/u")).toBe(join("/home/u", ".config", "vcluster-api", "config.yaml"));
  });
});

describe("resolveConnection", () => {
  it("uses the current context when nothing else is given", async () => {
    const connection = await resolveConnection({ config: file }, {}, dir);
    expect(connection).toMatchObject({ server: "http://127.0.0.1:9001", namespace: "team-a", contextName: "local" });
    expect(connection.token).toBeUndefined();
  });

  it("lets VCLUSTER_API_CONTEXT pick another context, and --context win over it", async () => {
    const fromEnv = await resolveConnection({ config: file }, { VCLUSTER_API_CONTEXT: "prod" }, dir);
    expect(fromEnv).toMatchObject({ server: "https://prod.example.com", token: "prod-token", namespace: "team-b" });
    const fromFlag = await resolveConnection({ config: file, context: "local" }, { VCLUSTER_API_CONTEXT: "prod" }, dir);
    expect(fromFlag.contextName).toBe("local");
  });

  it("ranks flags over environment variables over the context", async () => {
    const env = { VCLUSTER_API_SERVER: "http://env:1", VCLUSTER_API_TOKEN: "env-token", VCLUSTER_API_CONTEXT: "prod" };
    const fromEnv = await resolveConnection({ config: file }, env, dir);
    expect(fromEnv).toMatchObject({ server: "http://env:1", token: "env-token" });
    const fromFlags = await resolveConnection(
      { config: file, server: "http://flag:2/", token: "flag-token" },
      env,
      dir,
    );
    expect(fromFlags).toMatchObject({ server: "http://flag:2", token: "flag-token" });
  });

  it("falls back to the local default without a config file", async () => {
    const connection = await resolveConnection({ config: join(dir, "missing.yaml") }, {}, dir);
    expect(connection).toMatchObject({ server: DEFAULT_SERVER, namespace: undefined, contextName: undefined });
  });

  it("rejects an unknown context asked for by name and a server that is not a URL", async () => {
    await expect(resolveConnection({ config: file, context: "nope" }, {}, dir)).rejects.toThrow(
      /context "nope" not found/,
    );
    await expect(resolveConnection({ config: file, server: "localhost:8080" }, {}, dir)).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});

describe("config file", () => {
  it("round-trips contexts in kubectl-like YAML, readable only by the owner", async () => {
    const text = await readFile(file, "utf8");
    expect(text).toContain("current-context: local");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadConfig(file);
    expect(loaded.contexts.map((c) => c.name)).toEqual(["local", "prod"]);
  });

  it("explains a malformed file", async () => {
    const bad = join(dir, "bad.yaml");
    await saveConfig(bad, { contexts: [] });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(bad, "contexts:\n  - server: http://x\n");
    await expect(loadConfig(bad)).rejects.toThrow(/contexts\[0\]\.name: required/);
  });
});
