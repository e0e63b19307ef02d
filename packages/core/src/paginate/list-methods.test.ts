import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { VClusterService } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { drive } from "../../test/drive.js";
import { FakeVClusterBackend, Phase } from "../../test/fake-vcluster-backend.js";
import { createRetryInterceptor } from "../retry/retry-interceptor.js";
import { ManualClock } from "../time/manual-clock.js";
import { paginateVClusters } from "./list-methods.js";

describe("paginateVClusters", () => {
  it("walks ListVClusters with the request's filters, retrying each page through the client", async () => {
    const clock = new ManualClock();
    const backend = new FakeVClusterBackend();
    for (let i = 0; i < 7; i++) backend.put(i % 2 ? "odd" : "even", `vc-${i}`, Phase.RUNNING);
    let calls = 0;
    const flaky: Interceptor = (next) => async (req) => {
      if (++calls % 2 === 1) throw new ConnectError("blip", Code.Unavailable);
      return next(req);
    };
    const transport = createRouterTransport(backend.routes, {
      transport: { interceptors: [createRetryInterceptor({ clock, random: () => 0 }), flaky] },
    });
    const client = createClient(VClusterService, transport);
    const names = await drive(
      clock,
      paginateVClusters(client, { namespace: "even", pageSize: 2 }).toArray({ limit: 100 }),
    );
    expect(names.map((v) => v.name)).toEqual(["vc-0", "vc-2", "vc-4", "vc-6"]);
    expect(calls).toBe(4);
  });
});
