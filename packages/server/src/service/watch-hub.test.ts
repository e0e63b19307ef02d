import { create } from "@bufbuild/protobuf";
import { VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import type { Store, StoredEvent } from "../store/index.js";
import { WatchHub } from "./watch-hub.js";

function hubWithManualCommits() {
  let publish: (events: StoredEvent[]) => void = () => {};
  const store = {
    subscribe(listener: (events: StoredEvent[]) => void) {
      publish = listener;
      return () => {};
    },
  } as unknown as Store;
  const hub = new WatchHub(store, { queueLimit: 1000, maxPerSubject: 10 });
  const commit = (resourceVersion: number, id = "a") =>
    publish([{ resourceVersion, type: WatchEventType.MODIFIED, vcluster: create(VClusterSchema, { id }) }]);
  return { hub, commit };
}

describe("Watcher.bookmarkVersion", () => {
  it("never runs ahead of a queued event", () => {
    const { hub, commit } = hubWithManualCommits();
    const watcher = hub.register("alice");
    watcher.begin(3000, (e) => (e.vcluster.id === "a" ? e : undefined));
    expect(watcher.bookmarkVersion()).toBe(3000);
    // Committed while the initial state is still being sent: queued, not yet delivered.
    commit(3001);
    commit(3002, "unrelated");
    commit(3003);
    expect(watcher.seenVersion).toBe(3003);
    expect(watcher.bookmarkVersion()).toBe(3000);
    watcher.take();
    expect(watcher.bookmarkVersion()).toBe(3002);
    watcher.take();
    expect(watcher.bookmarkVersion()).toBe(3003);
    // Changes the watcher drops move the bookmark once nothing is queued.
    commit(3004, "unrelated");
    expect(watcher.bookmarkVersion()).toBe(3004);
  });
});

describe("Watcher.takeSome", () => {
  it("hands over what waits, oldest first, as take would one by one", () => {
    const { hub, commit } = hubWithManualCommits();
    const watcher = hub.register<number>("alice");
    watcher.begin(0, (e) => (e.vcluster.id === "a" ? e.resourceVersion : undefined));
    for (let v = 1; v <= 5; v++) commit(v, v === 3 ? "unrelated" : "a");
    expect(watcher.take()).toBe(1);
    expect(watcher.takeSome(2)).toEqual([2, 4]);
    expect(watcher.bookmarkVersion()).toBe(4);
    expect(watcher.takeSome(10)).toEqual([5]);
    expect(watcher.takeSome(10)).toEqual([]);
    expect(watcher.pending).toBe(0);
  });
});
