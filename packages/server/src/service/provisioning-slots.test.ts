import { describe, expect, it } from "vitest";
import { ProvisioningSlots } from "./provisioning-slots.js";

describe("ProvisioningSlots", () => {
  it("grants up to the limit at once, then first come first served", async () => {
    const slots = new ProvisioningSlots(1);
    const signal = new AbortController().signal;
    expect(slots.acquire(signal)).toBeUndefined();
    expect(slots.available()).toBe(false);
    const order: string[] = [];
    const second = slots.acquire(signal)?.then(() => order.push("second"));
    const third = slots.acquire(signal)?.then(() => order.push("third"));
    slots.release();
    await second;
    expect(order).toEqual(["second"]);
    slots.release();
    await third;
    expect(order).toEqual(["second", "third"]);
  });

  it("drops an aborted waiter without losing the slot it would have had", async () => {
    const slots = new ProvisioningSlots(1);
    slots.acquire(new AbortController().signal);
    const gone = new AbortController();
    const abandoned = slots.acquire(gone.signal);
    const next = slots.acquire(new AbortController().signal);
    gone.abort(new Error("deleted"));
    await expect(abandoned).rejects.toThrow("deleted");
    slots.release();
    await expect(next).resolves.toBeUndefined();
  });

  it("never limits when the limit is 0", () => {
    const slots = new ProvisioningSlots(0);
    for (let i = 0; i < 100; i++) expect(slots.acquire(new AbortController().signal)).toBeUndefined();
    expect(slots.available()).toBe(true);
  });
});
