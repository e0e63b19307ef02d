import { create } from "@bufbuild/protobuf";
import { VClusterSchema, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../store/index.js";
import { SharedHeldSets } from "./shared-held.js";

const event = (resourceVersion: number, id: string, type = WatchEventType.MODIFIED): StoredEvent => ({
  resourceVersion,
  type,
  vcluster: create(VClusterSchema, { id }),
});
const everything = () => true;

describe("SharedHeldSets", () => {
  it("shares a set only between watches at the same version, and answers each event once for all", () => {
    const sets = new SharedHeldSets();
    const first = sets.join("f", new Set(["a"]), 10);
    expect(first.outgoingType(event(11, "b"), everything)).toBe(WatchEventType.ADDED);
    // A second watch of the same filters at version 11 gets the same set...
    const second = sets.join("f", new Set(["a", "b"]), 11);
    expect(second).toBe(first);
    // ...and the same answer for the same event, though the first member already applied it.
    const deleteA = event(12, "a", WatchEventType.DELETED);
    expect(first.outgoingType(deleteA, everything)).toBe(WatchEventType.DELETED);
    expect(second.outgoingType(deleteA, everything)).toBe(WatchEventType.DELETED);
    // One that listed at another version starts a set of its own; later ones join that.
    const behind = sets.join("f", new Set(["a", "b"]), 11);
    expect(behind).not.toBe(first);
    expect(sets.join("f", new Set(["a", "b"]), 11)).toBe(behind);
    expect(sets.join("other", new Set(), 12)).not.toBe(first);
  });

  it("forgets a set when its last member leaves", () => {
    const sets = new SharedHeldSets();
    const only = sets.join("f", new Set(), 5);
    sets.leave("f", only);
    expect(sets.join("f", new Set(), 5)).not.toBe(only);
  });
});
