import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../clock.js";
import { withRetry } from "./retry.js";

const policy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 1000 };

describe("withRetry", () => {
  it("retries transient API failures with backoff, then succeeds", async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const done = withRetry(
      "reading",
      async () => {
        calls += 1;
        if (calls < 3) throw new ApiException(503, "unavailable", "", {});
        return "ok";
      },
      { clock, policy },
    );
    // Two failures park the retry on the clock twice; each wait is released by moving time.
    for (let parked = 0; parked < 2; parked++) {
      await vi.waitFor(() => expect(clock.pendingSleeps).toBe(1));
      clock.advance(1000);
    }
    expect(await done).toBe("ok");
  });

  it("gives up at once on a permanent failure", async () => {
    const clock = new ManualClock(0);
    await expect(
      withRetry("reading x", () => Promise.reject(new ApiException(403, "forbidden", '{"message":"no"}', {})), {
        clock,
        policy,
      }),
    ).rejects.toThrow("reading x: 403: no");
  });
});
