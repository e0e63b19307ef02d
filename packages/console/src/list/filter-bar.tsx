import type { Phase } from "@open-vcluster/api";
import type { RefObject } from "preact";
import { FILTERABLE_PHASES, phaseLabel } from "../format/phase.js";
import type { Filters } from "./filters.js";

export function FilterBar(props: {
  filters: Filters;
  namespaces: string[];
  selectorError: string | undefined;
  onChange: (filters: Filters) => void;
  searchRef?: RefObject<HTMLInputElement | null>;
}) {
  const { filters, onChange } = props;
  return (
    <section class="filter-bar" aria-label="Filters">
      <label class="filter filter-grow">
        <span>Search</span>
        <input
          ref={props.searchRef}
          type="search"
          placeholder="Name contains…"
          value={filters.search}
          aria-label="Search by name"
          aria-keyshortcuts="/"
          onInput={(e) => onChange({ ...filters, search: e.currentTarget.value })}
        />
      </label>
      <label class="filter">
        <span>Namespace</span>
        <select
          value={filters.namespace}
          onChange={(e) => onChange({ ...filters, namespace: e.currentTarget.value })}
          aria-label="Filter by namespace"
        >
          <option value="">All namespaces</option>
          {props.namespaces.map((ns) => (
            <option key={ns} value={ns}>
              {ns}
            </option>
          ))}
        </select>
      </label>
      <label class="filter filter-grow">
        <span>Label selector</span>
        <input
          type="search"
          placeholder="env=prod,tier in (web,api),!legacy"
          value={filters.labelSelector}
          aria-invalid={props.selectorError ? "true" : undefined}
          aria-label="Filter by label selector"
          onInput={(e) => onChange({ ...filters, labelSelector: e.currentTarget.value })}
        />
        {props.selectorError ? <span class="field-error">{props.selectorError}</span> : null}
      </label>
      <label class="filter">
        <span>Phase</span>
        <select
          value={filters.phase === undefined ? "" : String(filters.phase)}
          aria-label="Filter by phase"
          onChange={(e) => {
            const value = e.currentTarget.value;
            onChange({ ...filters, phase: value === "" ? undefined : (Number(value) as Phase) });
          }}
        >
          <option value="">All phases</option>
          {FILTERABLE_PHASES.map((phase) => (
            <option key={phase} value={String(phase)}>
              {phaseLabel(phase)}
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}
