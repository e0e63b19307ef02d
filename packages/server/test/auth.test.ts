import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { clientsFor, expectError, testServer, transportFor } from "./support.js";
import { expectTenancy } from "./tenancy-scenario.js";

function tokensFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "vc-auth-"));
  const file = join(dir, "tokens.yaml");
  writeFileSync(
    file,
    `tokens:
  - { token: admin-token-1, subject: root, admin: true }
  - { token: owner-token-1, subject: alice, projects: [blue] }
  - { token: member-token-1, subject: bob, projects: [blue] }
  - { token: stranger-token, subject: eve, projects: [red] }
`,
  );
  return file;
}

describe("auth and tenancy", () => {
  it("authenticates and scopes every RPC: admin / owner / project member / stranger", async () => {
    const server = await testServer({ authTokensFile: tokensFile() });
    await expectTenancy(server, {
      root: "admin-token-1",
      alice: "owner-token-1",
      bob: "member-token-1",
      eve: "stranger-token",
    });
  });

  it("scopes names by namespace, as documented: a shared namespace reveals taken names, separate ones do not", async () => {
    const server = await testServer({ authTokensFile: tokensFile() });
    const alice = clientsFor(transportFor(server, "connect", "2", "owner-token-1"));
    const eve = clientsFor(transportFor(server, "connect", "2", "stranger-token"));
    await alice.vc.createVCluster({ name: "shared", namespace: "common" });
    // Eve cannot see it, but the name is taken in the namespace they share.
    expect((await expectError(() => eve.vc.getVCluster({ name: "shared", namespace: "common" }))).error.code).toBe(
      Code.NotFound,
    );
    const taken = await expectError(() => eve.vc.createVCluster({ name: "shared", namespace: "common" }));
    expect(taken.error.code).toBe(Code.AlreadyExists);
    // The remedy: one namespace per tenant, where names never collide.
    const own = await eve.vc.createVCluster({ name: "shared", namespace: "team-red" });
    expect(own.vcluster?.owner).toBe("eve");
  });

  it("refuses a non-loopback host without auth", async () => {
    await expect(testServer({ host: "0.0.0.0" })).rejects.toThrow(/without authentication/);
  });
});
