import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { parseCliOptions } from "../src/cli-options.js";
import type { RunningServer } from "../src/index.js";
import { clientsFor, expectError, testServer, transportFor } from "./support.js";

function freshDb(): string {
  return join(mkdtempSync(join(tmpdir(), "vc-restart-")), "vc.db");
}

async function seed(server: RunningServer, count: number) {
  const c = clientsFor(transportFor(server, "connect", "1.1"));
  for (let i = 0; i < count; i++) await c.vc.createVCluster({ name: `r-${i}` });
  await server.api.idle();
}

describe("page tokens across restarts", () => {
  it("keeps tokens valid after a restart on the same SQLite store (secret kept beside the database)", async () => {
    const db = freshDb();
    const first = await testServer({ store: `sqlite:${db}` });
    await seed(first, 5);
    const page = await clientsFor(transportFor(first, "connect", "1.1")).vc.listVClusters({ pageSize: 2 });
    expect(page.vclusters.map((v) => v.name)).toEqual(["r-0", "r-1"]);
    await first.close();
    expect(statSync(`${db}.secret`).mode & 0o777).toBe(0o600);

    const second = await testServer({ store: `sqlite:${db}` });
    const c = clientsFor(transportFor(second, "grpc"));
    const next = await c.vc.listVClusters({ pageSize: 2, pageToken: page.nextPageToken });
    expect(next.vclusters.map((v) => v.name)).toEqual(["r-2", "r-3"]);
    expect(next.totalCount).toBe(5);
  });

  it("makes tokens portable between servers sharing --secret, and rejects another server's tokens", async () => {
    const db = freshDb();
    const a = await testServer({ store: `sqlite:${db}`, secret: "shared-secret" });
    await seed(a, 4);
    const b = await testServer({ store: `sqlite:${db}`, secret: "shared-secret" });
    const stranger = await testServer({ store: `sqlite:${db}`, secret: "another-secret" });
    const token = (await clientsFor(transportFor(a, "grpc")).vc.listVClusters({ pageSize: 3 })).nextPageToken;

    const onB = await clientsFor(transportFor(b, "grpc")).vc.listVClusters({ pageSize: 3, pageToken: token });
    expect(onB.vclusters.map((v) => v.name)).toEqual(["r-3"]);
    const refused = await expectError(() =>
      clientsFor(transportFor(stranger, "grpc")).vc.listVClusters({ pageSize: 3, pageToken: token }),
    );
    expect(refused.error.code).toBe(Code.InvalidArgument);
    expect(refused.detail?.reason).toBe("INVALID_PAGE_TOKEN");
    expect(refused.detail?.field).toBe("page_token");
  });

  it("reads the secret from --secret or VCLUSTER_API_SECRET", () => {
    expect(parseCliOptions(["--secret", "flag"], { VCLUSTER_API_SECRET: "env" })).toMatchObject({ secret: "flag" });
    expect(parseCliOptions([], { VCLUSTER_API_SECRET: "env" })).toMatchObject({ secret: "env" });
  });
});
