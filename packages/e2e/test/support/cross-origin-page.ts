import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** Bundles the cross-origin fixture with the published web client, minified as an app would ship it. */
export async function buildCrossOriginBundle(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), "e2e-page-"));
  try {
    await build({
      configFile: false,
      logLevel: "error",
      build: {
        outDir,
        minify: true,
        target: "es2022",
        modulePreload: false,
        rollupOptions: { input: fileURLToPath(new URL("../fixtures/cross-origin-page.ts", import.meta.url)) },
      },
    });
    const [script] = await readdir(join(outDir, "assets"));
    if (!script) throw new Error("the cross-origin page bundle is empty");
    return await readFile(join(outDir, "assets", script), "utf8");
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Serves a blank page running `script` from its own 127.0.0.1 port: an origin of its own. */
export async function servePage(script: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(script);
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end('<!doctype html><title>dashboard</title><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
