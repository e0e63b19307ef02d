import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Phase, VClusterSchema } from "@open-vcluster/api";
import { type RunningServer, startServer } from "@open-vcluster/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, timeScale: 0, logger: false });
});
afterAll(async () => {
  await server?.close();
});

function seed(name: string, createdAt: number) {
  return create(VClusterSchema, {
    id: crypto.randomUUID(),
    name,
    namespace: "bulk",
    status: { phase: Phase.RUNNING },
    createTime: timestampFromDate(new Date(createdAt)),
    updateTime: timestampFromDate(new Date(createdAt)),
  });
}

describe("paginate over RPC against the real server", () => {
  it("sees each of 10 000 vclusters exactly once while others are created and deleted", async () => {
    const stable = new Set<string>();
    await server.store.transaction(async (tx) => {
      for (let i = 0; i < 10_000; i++) {
        const name = `vc-${String(i).padStart(5, "0")}`;
        await tx.putVCluster(seed(name, 1_700_000_000_000 + i));
        stable.add(name);
      }
    });
    const client = createClient({ baseUrl: server.url });
    const seen: string[] = [];
    let churn = 0;
    for await (const page of client.paginateVClusters({ namespace: "bulk", pageSize: 500 }).pages()) {
      seen.push(...page.items.map((v) => v.name));
      // Between pages, others come and go on both sides of the cursor.
      await server.store.transaction(async (tx) => {
        for (let j = 0; j < 20; j++) {
          const name = `${j % 2 ? "a" : "z"}-extra-${churn++}`;
          await tx.putVCluster(seed(name, Date.now()));
          const doomed = await tx.getVCluster("bulk", `${j % 2 ? "a" : "z"}-extra-${churn - 3}`);
          if (doomed) await tx.deleteVCluster(doomed.id);
        }
      });
    }
    expect(new Set(seen).size).toBe(seen.length);
    const missing = [...stable].filter((name) => !seen.includes(name));
    expect(missing).toEqual([]);
  }, 240_000);
});
