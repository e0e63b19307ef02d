import { create } from "@bufbuild/protobuf";
import { Phase, VClusterSchema } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { compileFilters, filtersFromSearch, filtersToSearch, NO_FILTERS } from "./filters.js";

const vcluster = (namespace: string, phase: Phase, labels: Record<string, string>) =>
  create(VClusterSchema, { name: "v", namespace, labels, status: { phase } });

describe("compileFilters", () => {
  it("matches on namespace, phase and label selector together", () => {
    const compiled = compileFilters({
      search: "",
      namespace: "team-a",
      labelSelector: "env in (prod,stage),!legacy",
      phase: Phase.RUNNING,
    });
    expect(compiled.selectorError).toBeUndefined();
    expect(compiled.matches(vcluster("team-a", Phase.RUNNING, { env: "prod" }))).toBe(true);
    expect(compiled.matches(vcluster("team-b", Phase.RUNNING, { env: "prod" }))).toBe(false);
    expect(compiled.matches(vcluster("team-a", Phase.SUSPENDED, { env: "prod" }))).toBe(false);
    expect(compiled.matches(vcluster("team-a", Phase.RUNNING, { env: "prod", legacy: "" }))).toBe(false);
  });

  it("reports a selector that does not parse and keeps the other filters", () => {
    const compiled = compileFilters({ ...NO_FILTERS, namespace: "team-a", labelSelector: "env in ()" });
    expect(compiled.selectorError).toMatch(/invalid label selector/);
    expect(compiled.matches(vcluster("team-a", Phase.RUNNING, {}))).toBe(true);
    expect(compiled.matches(vcluster("team-b", Phase.RUNNING, {}))).toBe(false);
  });
});

describe("search by name", () => {
  it("matches part of the name in any case", () => {
    const compiled = compileFilters({ ...NO_FILTERS, search: " WEB " });
    const named = (name: string) => create(VClusterSchema, { name, namespace: "default" });
    expect(compiled.matches(named("shop-web-1"))).toBe(true);
    expect(compiled.matches(named("api"))).toBe(false);
  });
});

describe("filters in the URL", () => {
  it("round-trip through the query string", () => {
    const filters = { search: "web", namespace: "team-a", labelSelector: "env=prod", phase: Phase.ERROR };
    expect(filtersFromSearch(filtersToSearch(filters))).toEqual(filters);
    expect(filtersToSearch(NO_FILTERS)).toBe("");
  });
});
