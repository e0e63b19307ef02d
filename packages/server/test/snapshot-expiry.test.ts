import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { SnapshotStatus } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../src/index.js";
import { clientsFor, createRunning, expectError, testServer, transportFor } from "./support.js";

/** Time stands still unless moved; sleeps stay real so instant operations still complete. */
function steppedClock(start = Date.UTC(2030, 0, 1)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
    advance: (ms) => {
      now += ms;
    },
  };
}

const HOUR = 3_600_000;

describe("snapshot expiry", () => {
  it("stamps expire_time = create_time + retention and removes the snapshot once it has passed", async () => {
    const clock = steppedClock();
    const server = await testServer({ clock });
    const c = clientsFor(transportFor(server, "grpc"));
    await createRunning(server, c, "keep");
    const { snapshot } = await c.vc.snapshotVCluster({ name: "keep", snapshotName: "short", retentionHours: 2 });
    // One snapshot operation at a time: take the second once the first has finished.
    await server.api.idle();
    const { snapshot: forever } = await c.vc.snapshotVCluster({ name: "keep", snapshotName: "forever" });
    await server.api.idle();
    const got = (await c.snap.getSnapshot({ id: snapshot?.id ?? "" })).snapshot;
    expect(got?.status).toBe(SnapshotStatus.READY);
    if (!got?.createTime || !got.expireTime) throw new Error("snapshot lacks create_time or expire_time");
    expect(timestampMs(got.expireTime) - timestampMs(got.createTime)).toBe(2 * HOUR);
    expect(timestampMs(got.createTime)).toBe(clock.now().getTime());

    clock.advance(2 * HOUR - 1);
    expect((await server.api.sweep()).snapshots).toBe(0);
    expect((await c.snap.getSnapshot({ id: got.id })).snapshot?.name).toBe("short");

    clock.advance(1);
    expect((await server.api.sweep()).snapshots).toBe(1);
    const gone = await expectError(() => c.snap.getSnapshot({ id: got.id }));
    expect(gone.error.code).toBe(Code.NotFound);
    // Snapshots without retention are kept.
    clock.advance(10_000 * HOUR);
    expect((await server.api.sweep()).snapshots).toBe(0);
    expect((await c.snap.getSnapshot({ id: forever?.id ?? "" })).snapshot?.expireTime).toBeUndefined();
  });
});
