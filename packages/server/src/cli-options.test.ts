import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCliOptions } from "./cli-options.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "server-config-"));
  dirs.push(dir);
  const file = join(dir, "server.yaml");
  writeFileSync(file, yaml);
  return file;
}

function parse(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const options = parseCliOptions(argv, env);
  if (options === "help") throw new Error("unexpected help");
  return options;
}

describe("server settings", () => {
  it("take flags over environment over config file over defaults", () => {
    const file = configFile("port: 9001\nhost: 127.0.0.2\nlog-level: debug\ntime-scale: 3\nhistory-limit: 50\n");
    const env = { VCLUSTER_API_PORT: "9002", VCLUSTER_API_HOST: "127.0.0.3" };
    const options = parse(["--config", file, "--port", "9003"], env);
    expect(options.port).toBe(9003); // flag
    expect(options.host).toBe("127.0.0.3"); // environment
    expect(options.logLevel).toBe("debug"); // file
    expect(options.timeScale).toBe(3);
    expect(options.historyLimit).toBe(50);
    expect(options.store).toBe("sqlite:.data/vcluster.db"); // default
  });

  it("find the config file through VCLUSTER_API_SERVER_CONFIG", () => {
    const file = configFile("store: memory\n");
    expect(parse([], { VCLUSTER_API_SERVER_CONFIG: file }).store).toBe("memory");
  });

  it("read paths in the config file relative to it", () => {
    const file = configFile("store: sqlite:data/vc.db\nconsole: ../web\nauth-tokens: /etc/tokens.yaml\n");
    const dir = join(file, "..");
    const options = parse(["--config", file]);
    expect(options.store).toBe(`sqlite:${join(dir, "data", "vc.db")}`);
    expect(options.consoleDir).toBe(join(dir, "..", "web"));
    expect(options.authTokensFile).toBe("/etc/tokens.yaml");
  });

  it("take lists and booleans from the config file", () => {
    const file = configFile("cors-origin: [https://a.example, https://b.example]\nallow-remote-without-auth: true\n");
    const options = parse(["--config", file]);
    expect(options.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(options.allowRemoteWithoutAuth).toBe(true);
    expect(parse(["--config", file], { VCLUSTER_API_CORS_ORIGINS: "https://c.example" }).corsOrigins).toEqual([
      "https://c.example",
    ]);
    expect(parse(["--config", file, "--cors-origin", "https://d.example"]).corsOrigins).toEqual(["https://d.example"]);
  });

  it("reject unknown keys, wrong types, bad YAML and missing files, naming the problem", () => {
    expect(() => parse(["--config", configFile("prot: 1\n")])).toThrow(/unknown setting "prot" \(known: host, port/);
    expect(() => parse(["--config", configFile("port: [1]\n")])).toThrow(/port: expected a string or a number/);
    expect(() => parse(["--config", configFile("allow-remote-without-auth: yes please\n")])).toThrow(
      /allow-remote-without-auth: expected true or false/,
    );
    expect(() => parse(["--config", configFile("- port\n")])).toThrow(/expected a mapping of settings/);
    expect(() => parse(["--config", configFile("port: [\n")])).toThrow(/not valid YAML/);
    expect(() => parse(["--config", "/nonexistent/server.yaml"])).toThrow(
      /config file \/nonexistent\/server.yaml: ENOENT/,
    );
    expect(() => parse(["--config", configFile("port: -1\n")])).toThrow(/--port: expected a non-negative number/);
  });

  it("accept an empty config file", () => {
    expect(parse(["--config", configFile("")]).port).toBe(8080);
  });

  it("check the log level", () => {
    expect(parse(["--log-level", "warn"]).logLevel).toBe("warn");
    expect(parse([], { VCLUSTER_API_LOG_LEVEL: "error" }).logLevel).toBe("error");
    expect(parse([]).logLevel).toBe("info");
    expect(() => parse(["--log-level", "loud"])).toThrow(/--log-level: expected one of trace, debug, info/);
  });
});
