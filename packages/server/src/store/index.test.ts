import { describe, expect, it } from "vitest";
import type { StoreSpec } from "./index.js";
import { MemoryStore, openStore, SqliteStore } from "./index.js";

describe("openStore", () => {
  it("opens the implementation the spec names", () => {
    const memory = openStore("memory");
    expect(memory).toBeInstanceOf(MemoryStore);
    memory.close();
    const sqlite = openStore("sqlite::memory:");
    expect(sqlite).toBeInstanceOf(SqliteStore);
    sqlite.close();
  });

  it("rejects unknown specs, missing paths and bad history limits", () => {
    expect(() => openStore("postgres://db" as StoreSpec)).toThrow(/unknown store/);
    expect(() => openStore("sqlite:")).toThrow(/file path/);
    expect(() => openStore("memory", { historyLimit: -1 })).toThrow(RangeError);
    expect(() => openStore("memory", { historyLimit: 1.5 })).toThrow(RangeError);
  });
});
