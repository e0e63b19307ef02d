import type { VCluster } from "@open-vcluster/api";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { CreateDialog } from "../actions/create-dialog.js";
import { useNow } from "../state/use-now.js";
import { BulkActions } from "./bulk-actions.js";
import { FilterBar } from "./filter-bar.js";
import { compileFilters, type Filters, filtersFromSearch, filtersToSearch } from "./filters.js";
import { DEFAULT_SORT, SORT_COLUMNS, type Sort, type SortColumn, sortVClusters } from "./sorting.js";
import { VClusterTable } from "./vcluster-table.js";

function sortFromSearch(search: string): Sort {
  const params = new URLSearchParams(search);
  const column = params.get("sort") as SortColumn | null;
  if (!column || !SORT_COLUMNS.includes(column)) return DEFAULT_SORT;
  return { column, descending: params.get("order") === "desc" };
}

function viewSearch(filters: Filters, sort: Sort): string {
  const params = new URLSearchParams(filtersToSearch(filters));
  if (sort.column !== DEFAULT_SORT.column || sort.descending) {
    params.set("sort", sort.column);
    if (sort.descending) params.set("order", "desc");
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function typingIn(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return element?.closest("input, textarea, select, [contenteditable=true], dialog") != null;
}

export function ListPage(props: { vclusters: VCluster[]; synced: boolean }) {
  const [filters, setFilters] = useState<Filters>(() => filtersFromSearch(window.location.search));
  const [sort, setSort] = useState<Sort>(() => sortFromSearch(window.location.search));
  const [selectedIds, setSelectedIds] = useState<ReadonlySet<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const search = useRef<HTMLInputElement>(null);
  const now = useNow();
  const compiled = useMemo(() => compileFilters(filters), [filters]);
  const namespaces = useMemo(() => [...new Set(props.vclusters.map((v) => v.namespace))].sort(), [props.vclusters]);
  const shown = useMemo(
    () => sortVClusters(props.vclusters.filter(compiled.matches), sort),
    [props.vclusters, compiled, sort],
  );
  // Only rows still listed and shown stay selected: a deleted or filtered-out row cannot be acted on unseen.
  const selected = useMemo(() => shown.filter((v) => selectedIds.has(v.id)), [shown, selectedIds]);

  // The URL changes with the view at once, so a link copied right after a click shows the same.
  const showView = (nextFilters: Filters, nextSort: Sort) => {
    window.history.replaceState(null, "", `${window.location.pathname}${viewSearch(nextFilters, nextSort)}`);
    setFilters(nextFilters);
    setSort(nextSort);
  };

  // kubectl-like keys for the whole page: "/" searches, "c" creates, Escape clears the selection.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.metaKey || event.ctrlKey || event.altKey || typingIn(event.target)) return;
      if (event.key === "/") {
        event.preventDefault();
        search.current?.focus();
      } else if (event.key === "c") {
        event.preventDefault();
        setCreating(true);
      } else if (event.key === "Escape") {
        setSelectedIds(new Set());
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const select = (ids: string[], on: boolean) =>
    setSelectedIds((previous) => {
      const next = new Set(previous);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });

  return (
    <main class="page">
      <div class="page-header">
        <div>
          <h1>Virtual clusters</h1>
          <p class="muted">{props.synced ? `${shown.length} of ${props.vclusters.length} shown` : "Loading…"}</p>
        </div>
        <button type="button" class="button button-primary" onClick={() => setCreating(true)} aria-keyshortcuts="c">
          Create vcluster
        </button>
      </div>
      <FilterBar
        filters={filters}
        namespaces={namespaces}
        selectorError={compiled.selectorError}
        onChange={(next) => showView(next, sort)}
        searchRef={search}
      />
      {selected.length > 0 ? <BulkActions selected={selected} onClear={() => setSelectedIds(new Set())} /> : null}
      {!props.synced ? (
        <div class="empty">
          <span class="spinner" aria-hidden="true" /> Loading vclusters…
        </div>
      ) : shown.length === 0 ? (
        <div class="empty">
          {props.vclusters.length === 0 ? (
            <>
              <strong>No vclusters yet.</strong>
              <span class="muted">Create one to get a virtual Kubernetes cluster in seconds.</span>
            </>
          ) : (
            <strong>No vcluster matches these filters.</strong>
          )}
        </div>
      ) : (
        <VClusterTable
          vclusters={shown}
          now={now}
          sort={sort}
          onSort={(next) => showView(filters, next)}
          selected={new Set(selected.map((v) => v.id))}
          onSelect={select}
        />
      )}
      <p class="muted small keyboard-hint">
        Keys: <kbd>/</kbd> search · <kbd>↑</kbd>
        <kbd>↓</kbd> or <kbd>j</kbd>
        <kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>Space</kbd> select · <kbd>Esc</kbd> clear · <kbd>c</kbd> create
      </p>
      {creating ? <CreateDialog onClose={() => setCreating(false)} /> : null}
    </main>
  );
}
