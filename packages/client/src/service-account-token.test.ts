import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@open-vcluster/core";
import { describe, expect, it } from "vitest";
import { serviceAccountToken } from "./service-account-token.js";

const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.sig`;

describe("serviceAccountToken", () => {
  it("reads the projected token and reads it again when it nears expiry, as the kubelet rotates it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ovc-sa-")), "token");
    const clock = new ManualClock(1_700_000_000_000);
    const first = jwt(1_700_000_000 + 3600);
    writeFileSync(file, `${first}\n`);
    const token = serviceAccountToken(file, { clock, refreshBeforeMs: 60_000 });
    expect(await token()).toBe(first);
    const second = jwt(1_700_000_000 + 7200);
    writeFileSync(file, second);
    expect(await token()).toBe(first);
    await clock.advance(3_540_000);
    expect(await token()).toBe(second);
  });
});
