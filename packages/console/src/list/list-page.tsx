import type { VCluster } from "@open-vcluster/api";
import { useMemo, useState } from "preact/hooks";
import { CreateDialog } from "../actions/create-dialog.js";
import { useNow } from "../state/use-now.js";
import { FilterBar } from "./filter-bar.js";
import { compileFilters, type Filters, filtersFromSearch, filtersToSearch } from "./filters.js";
import { VClusterTable } from "./vcluster-table.js";

export function ListPage(props: { vclusters: VCluster[]; synced: boolean }) {
  const [filters, setFilters] = useState<Filters>(() => filtersFromSearch(window.location.search));
  const [creating, setCreating] = useState(false);
  const now = useNow();
  const compiled = useMemo(() => compileFilters(filters), [filters]);
  const namespaces = useMemo(() => [...new Set(props.vclusters.map((v) => v.namespace))].sort(), [props.vclusters]);
  const shown = useMemo(() => {
    return props.vclusters
      .filter(compiled.matches)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }, [props.vclusters, compiled]);

  const changeFilters = (next: Filters) => {
    setFilters(next);
    window.history.replaceState(null, "", `${window.location.pathname}${filtersToSearch(next)}`);
  };

  return (
    <main class="page">
      <div class="page-header">
        <div>
          <h1>Virtual clusters</h1>
          <p class="muted">{props.synced ? `${shown.length} of ${props.vclusters.length} shown` : "Loading…"}</p>
        </div>
        <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
          Create vcluster
        </button>
      </div>
      <FilterBar
        filters={filters}
        namespaces={namespaces}
        selectorError={compiled.selectorError}
        onChange={changeFilters}
      />
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
        <VClusterTable vclusters={shown} now={now} />
      )}
      {creating ? <CreateDialog onClose={() => setCreating(false)} /> : null}
    </main>
  );
}
