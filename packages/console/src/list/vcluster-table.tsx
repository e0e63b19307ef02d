import type { VCluster } from "@open-vcluster/api";
import { useRef } from "preact/hooks";
import { formatByteQuantity } from "../format/quantity.js";
import { formatAge, toDate } from "../format/time.js";
import { Link } from "../routing/link.js";
import { detailPath, navigate } from "../routing/route.js";
import { LabelsView } from "../ui/labels-view.js";
import { PhaseBadge } from "../ui/phase-badge.js";
import type { Sort, SortColumn } from "./sorting.js";

const HEADERS: { column: SortColumn | undefined; label: string; numeric?: boolean }[] = [
  { column: "name", label: "Name" },
  { column: "phase", label: "Phase" },
  { column: "namespace", label: "Namespace" },
  { column: "owner", label: "Owner / project" },
  { column: undefined, label: "Labels" },
  { column: "cpu", label: "CPU", numeric: true },
  { column: "memory", label: "Memory", numeric: true },
  { column: "pods", label: "Pods", numeric: true },
  { column: "age", label: "Age", numeric: true },
];

export interface TableProps {
  vclusters: VCluster[];
  now: number;
  sort: Sort;
  onSort: (sort: Sort) => void;
  /** Ids of the selected vclusters. */
  selected: ReadonlySet<string>;
  onSelect: (ids: string[], selected: boolean) => void;
}

/**
 * The list of vclusters. Rows are one tab stop (a roving tabindex): arrow keys or j/k move,
 * Enter opens, Space selects; headers sort, a second click reverses.
 */
export function VClusterTable(props: TableProps) {
  const body = useRef<HTMLTableSectionElement>(null);
  const { selected } = props;
  const allSelected = props.vclusters.length > 0 && props.vclusters.every((v) => selected.has(v.id));
  const someSelected = !allSelected && props.vclusters.some((v) => selected.has(v.id));

  const rows = () => [...(body.current?.querySelectorAll<HTMLTableRowElement>("tr[data-testid=vcluster-row]") ?? [])];
  const focusRow = (index: number) => {
    const all = rows();
    const target = all[Math.max(0, Math.min(all.length - 1, index))];
    for (const row of all) row.tabIndex = row === target ? 0 : -1;
    target?.focus();
  };
  const onKeyDown = (event: KeyboardEvent, index: number, vcluster: VCluster) => {
    if (event.target !== event.currentTarget) return; // keys typed into the row's own controls
    const keys: Record<string, () => void> = {
      ArrowDown: () => focusRow(index + 1),
      j: () => focusRow(index + 1),
      ArrowUp: () => focusRow(index - 1),
      k: () => focusRow(index - 1),
      Home: () => focusRow(0),
      End: () => focusRow(rows().length - 1),
      Enter: () => navigate(detailPath(vcluster.namespace, vcluster.name)),
      " ": () => props.onSelect([vcluster.id], !selected.has(vcluster.id)),
      x: () => props.onSelect([vcluster.id], !selected.has(vcluster.id)),
    };
    const action = keys[event.key];
    if (!action || event.metaKey || event.ctrlKey || event.altKey) return;
    event.preventDefault();
    action();
  };

  const sortBy = (column: SortColumn) =>
    props.onSort({ column, descending: props.sort.column === column ? !props.sort.descending : false });

  return (
    <div class="table-wrap">
      <table class="table table-vclusters" aria-label="Virtual clusters">
        <thead>
          <tr>
            <th class="select-cell">
              <input
                type="checkbox"
                aria-label="Select all shown"
                checked={allSelected}
                ref={(el) => {
                  if (el) el.indeterminate = someSelected;
                }}
                onChange={() =>
                  props.onSelect(
                    props.vclusters.map((v) => v.id),
                    !allSelected,
                  )
                }
              />
            </th>
            {HEADERS.map((header) => {
              const active = header.column !== undefined && props.sort.column === header.column;
              return (
                <th
                  key={header.label}
                  class={header.numeric ? "numeric" : undefined}
                  aria-sort={active ? (props.sort.descending ? "descending" : "ascending") : undefined}
                >
                  {header.column ? (
                    <button
                      type="button"
                      class={active ? "sort-button sort-active" : "sort-button"}
                      onClick={() => header.column && sortBy(header.column)}
                    >
                      {header.label}
                      <span class="sort-mark" aria-hidden="true">
                        {active ? (props.sort.descending ? "▼" : "▲") : "↕"}
                      </span>
                    </button>
                  ) : (
                    header.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={body}>
          {props.vclusters.map((v, index) => (
            <tr
              key={v.id}
              data-testid="vcluster-row"
              data-name={v.name}
              data-namespace={v.namespace}
              class={selected.has(v.id) ? "row-selected" : undefined}
              tabIndex={index === 0 ? 0 : -1}
              aria-selected={selected.has(v.id) ? "true" : "false"}
              onKeyDown={(event) => onKeyDown(event, index, v)}
            >
              <td class="select-cell">
                <input
                  type="checkbox"
                  aria-label={`Select ${v.namespace}/${v.name}`}
                  checked={selected.has(v.id)}
                  onChange={(event) => props.onSelect([v.id], event.currentTarget.checked)}
                />
              </td>
              <td class="cell-name">
                <Link href={detailPath(v.namespace, v.name)} class="name-link">
                  {v.name}
                </Link>
                <div class="muted small">Kubernetes {v.spec?.kubernetesVersion || "—"}</div>
              </td>
              <td class="cell-phase">
                <PhaseBadge phase={v.status?.phase ?? 0} />
              </td>
              <td class="cell-namespace" data-label="Namespace">
                {v.namespace}
              </td>
              <td class="cell-owner" data-label="Owner">
                <div>{v.owner || "—"}</div>
                <div class="muted small">{v.project || "no project"}</div>
              </td>
              <td class="cell-labels">
                <LabelsView labels={v.labels} limit={3} />
              </td>
              <td class="numeric cell-usage" data-label="CPU">
                {v.status?.currentUsage?.cpuUsage || "—"}
              </td>
              <td class="numeric cell-usage" data-label="Memory">
                {formatByteQuantity(v.status?.currentUsage?.memoryUsage)}
              </td>
              <td class="numeric cell-usage" data-label="Pods">
                {v.status?.currentUsage ? v.status.currentUsage.podCount : "—"}
              </td>
              <td class="numeric cell-age" data-label="Age" title={toDate(v.createTime)?.toISOString()}>
                {formatAge(toDate(v.createTime), props.now)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
