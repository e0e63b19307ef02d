import { describe, expect, it } from "vitest";
import type { StoreSpec } from "./index.js";
import { MemoryStore, openStore, PostgresStore, SqliteStore } from "./index.js";

describe("openStore", () => {
  it("opens the implementation the spec names", async () => {
    const memory = openStore("memory");
    expect(memory).toBeInstanceOf(MemoryStore);
    await memory.close();
    const sqlite = openStore("sqlite::memory:");
    expect(sqlite).toBeInstanceOf(SqliteStore);
    await sqlite.close();
    // Connecting happens in the background; until it succeeds the store is not healthy.
    const postgres = openStore("postgres://nobody@127.0.0.1:1/none");
    expect(postgres).toBeInstanceOf(PostgresStore);
    expect(postgres.healthy()).toBe(false);
    await postgres.close();
  });

  it("rejects unknown specs, missing paths and bad history limits", () => {
    expect(() => openStore("mysql://db" as StoreSpec)).toThrow(/unknown store/);
    expect(() => openStore("sqlite:")).toThrow(/file path/);
    expect(() => openStore("memory", { historyLimit: -1 })).toThrow(RangeError);
    expect(() => openStore("memory", { historyLimit: 1.5 })).toThrow(RangeError);
  });
});
