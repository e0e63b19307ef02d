import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
const main = fileURLToPath(new URL("./main.ts", import.meta.url));
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, store: "memory", timeScale: 0.05, logger: false });
});
afterAll(() => server?.close());

it("walks a vcluster through its whole lifecycle against a real server", async () => {
  const { stdout } = await run(process.execPath, ["--no-warnings", main, server.url], { timeout: 240_000 });
  const steps = stdout.split("\n").filter((line) => !line.startsWith(" ") && line.length > 0);
  expect(steps).toEqual([
    `creating default/example on ${server.url}`,
    "running",
    "suspended",
    "resumed",
    expect.stringMatching(/^snapshot \S+ ready \(\d+ bytes at container:\/\/\/snapshots\/default\/\S+\.tar\.gz\)$/),
    "restored",
    expect.stringMatching(/^kubeconfig for https:\/\/example\.default\.vcluster\.local:443:$/),
    "deleted",
  ]);
  // Progress lines name phases (which transitional ones are seen depends on timing).
  expect(stdout).toContain("phase SUSPENDED");
  expect(stdout).toContain("current-context:");
  expect((await server.api.store.listVClusters({}, "name", undefined, 10)).total).toBe(0);
}, 240_000);
