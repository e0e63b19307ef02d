import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { VClusterSpecSchema } from "@open-vcluster/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { createRequestFromDocument, maskPaths, readDocument } from "./spec-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vcluster-api-spec-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("spec files", () => {
  it("reads a whole CreateVClusterRequest in proto JSON form (camelCase or proto names)", async () => {
    const file = join(dir, "request.yaml");
    await writeFile(
      file,
      "name: dev\nnamespace: team-a\nlabels: {env: prod}\nspec:\n  kubernetes_version: 1.34.2\n  resources: {cpuRequest: 500m}\n",
    );
    const request = createRequestFromDocument(await readDocument(file, undefined), file);
    expect(request.name).toBe("dev");
    expect(request.namespace).toBe("team-a");
    expect(request.labels).toEqual({ env: "prod" });
    expect(request.spec?.kubernetesVersion).toBe("1.34.2");
    expect(request.spec?.resources?.cpuRequest).toBe("500m");
  });

  it("accepts a bare VClusterSpec, from stdin too", async () => {
    const stdin = Readable.from([Buffer.from('{"replicas": 3, "enableHa": true}')]);
    const request = createRequestFromDocument(await readDocument("-", stdin), "-");
    expect(request.name).toBe("");
    expect(request.spec?.replicas).toBe(3);
    expect(request.spec?.enableHa).toBe(true);
  });

  it("names the file and the offending field when decoding fails", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "name: dev\nspec:\n  replicas: three\n");
    const document = await readDocument(file, undefined);
    expect(() => createRequestFromDocument(document, file)).toThrow(UsageError);
    expect(() => createRequestFromDocument(document, file)).toThrow(/bad\.yaml.*replicas/);
  });

  it("rejects unknown fields and documents that are not mappings", async () => {
    const unknown = join(dir, "unknown.yaml");
    await writeFile(unknown, "name: dev\nspec:\n  cpus: 4\n");
    const unknownDocument = await readDocument(unknown, undefined);
    expect(() => createRequestFromDocument(unknownDocument, unknown)).toThrow(/cpus/);
    const list = join(dir, "list.yaml");
    await writeFile(list, "- a\n- b\n");
    await expect(readDocument(list, undefined)).rejects.toThrow(/expected a mapping/);
    await expect(readDocument(join(dir, "missing.yaml"), undefined)).rejects.toBeInstanceOf(UsageError);
  });
});

describe("maskPaths", () => {
  it("lists the leaf fields a document sets, keeping lists and maps whole", () => {
    const paths = maskPaths(
      VClusterSpecSchema,
      { replicas: 1, enableHa: false, resources: { cpu_request: "1", memoryLimit: "8Gi" }, plugins: [], sync: {} },
      "spec",
    );
    expect(paths).toEqual([
      "spec.replicas",
      "spec.enable_ha",
      "spec.resources.cpu_request",
      "spec.resources.memory_limit",
      "spec.plugins",
      "spec.sync",
    ]);
  });
});
