import { describe, expect, it } from "vitest";
import { parseCliOptions } from "./cli-options.js";

describe("postgres options", () => {
  const url = "postgres://vc@db.example:5432/vcluster";

  it("takes the store from --store or VCLUSTER_API_STORE, and wants the shared secret replicas need", () => {
    expect(() => parseCliOptions(["--store", url], {})).toThrow(/--secret .* is required with a postgres store/);
    expect(parseCliOptions([], { VCLUSTER_API_STORE: url, VCLUSTER_API_SECRET: "s" })).toMatchObject({
      store: url,
      postgres: {},
    });
  });

  it("sets pool size, statement timeout, TLS and the operation lease, flags over environment", () => {
    const options = parseCliOptions(
      ["--store", url, "--secret", "s", "--pg-pool-size", "20", "--pg-ssl", "require", "--operation-lease", "5000"],
      { VCLUSTER_API_PG_POOL_SIZE: "3", VCLUSTER_API_PG_STATEMENT_TIMEOUT: "2500" },
    );
    expect(options).toMatchObject({
      postgres: { poolSize: 20, statementTimeoutMs: 2500, ssl: "require" },
      operationLeaseMs: 5000,
    });
    expect(() => parseCliOptions(["--store", url, "--secret", "s", "--pg-ssl", "sometimes"], {})).toThrow(/--pg-ssl/);
    expect(() => parseCliOptions(["--store", url, "--secret", "s", "--pg-pool-size", "0.5"], {})).toThrow(
      /--pg-pool-size/,
    );
  });

  it("refuses a store it does not know", () => {
    expect(() => parseCliOptions(["--store", "mysql://x"], {})).toThrow(/expected memory, sqlite:<path> or postgres/);
  });
});
