import type { SQLInputValue } from "node:sqlite";
import type {
  LabelPredicate,
  SnapshotCursor,
  SnapshotFilter,
  VClusterCursor,
  VClusterFilter,
  VClusterOrder,
} from "./types.js";

/**
 * SQL for the list operations. The text depends only on which filters are present, never on
 * their values (lists travel as one JSON parameter read with json_each), so the prepared
 * statement cache stays small however callers combine filters.
 */
export interface Query {
  sql: string;
  params: SQLInputValue[];
}

interface Conditions {
  clauses: string[];
  params: SQLInputValue[];
}

/**
 * Whether SQL evaluates the label selector itself: true when the predicate carries its
 * requirements and every key can be named in a JSON path (label keys never hold quotes).
 */
export function labelsInSql(labels: LabelPredicate | undefined): boolean {
  return labels?.requirements?.every((r) => !/["\\]/.test(r.key)) ?? false;
}

/** The selector as SQL over labels_json, with Kubernetes semantics for absent keys. */
function addLabelConditions(labels: LabelPredicate, add: (clause: string, ...values: SQLInputValue[]) => void): void {
  for (const { key, operator, values } of labels.requirements ?? []) {
    const path = `$."${key}"`;
    const value = "json_extract(labels_json, ?)";
    switch (operator) {
      case "=":
        add(`${value} = ?`, path, values[0] ?? "");
        break;
      case "!=":
        add(`(${value} IS NULL OR ${value} != ?)`, path, path, values[0] ?? "");
        break;
      case "in":
        add(`${value} IN (SELECT value FROM json_each(?))`, path, JSON.stringify(values));
        break;
      case "notin":
        add(
          `(${value} IS NULL OR ${value} NOT IN (SELECT value FROM json_each(?)))`,
          path,
          path,
          JSON.stringify(values),
        );
        break;
      case "exists":
        add("json_type(labels_json, ?) IS NOT NULL", path);
        break;
      case "!exists":
        add("json_type(labels_json, ?) IS NULL", path);
        break;
    }
  }
}

/**
 * The selector over the vcluster_labels index: every requirement names a key (and values), so
 * each becomes a lookup of matching ids, and SQL never reads labels_json to filter. Absent keys
 * match `!=`, `notin` and `!exists`, as in Kubernetes.
 */
function addIndexedLabelConditions(
  labels: LabelPredicate,
  add: (clause: string, ...values: SQLInputValue[]) => void,
): void {
  const having = (valueClause: string) => `SELECT seq FROM vcluster_labels WHERE key = ?${valueClause}`;
  for (const { key, operator, values } of labels.requirements ?? []) {
    switch (operator) {
      case "=":
        add(`seq IN (${having(" AND value = ?")})`, key, values[0] ?? "");
        break;
      case "!=":
        add(`seq NOT IN (${having(" AND value = ?")})`, key, values[0] ?? "");
        break;
      case "in":
        add(`seq IN (${having(" AND value IN (SELECT value FROM json_each(?))")})`, key, JSON.stringify(values));
        break;
      case "notin":
        add(`seq NOT IN (${having(" AND value IN (SELECT value FROM json_each(?))")})`, key, JSON.stringify(values));
        break;
      case "exists":
        add(`seq IN (${having("")})`, key);
        break;
      case "!exists":
        add(`seq NOT IN (${having("")})`, key);
        break;
    }
  }
}

function vclusterConditions(filter: VClusterFilter): Conditions {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, ...values: SQLInputValue[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.namespace !== undefined) add("namespace = ?", filter.namespace);
  if (filter.name !== undefined) add("name = ?", filter.name);
  if (filter.phases !== undefined && filter.phases.length > 0) {
    add("phase IN (SELECT value FROM json_each(?))", JSON.stringify(filter.phases));
  }
  if (filter.owner !== undefined) add("owner = ?", filter.owner);
  if (filter.project !== undefined) add("project = ?", filter.project);
  if (filter.visibleTo !== undefined) {
    add(
      "(owner = ? OR project IN (SELECT value FROM json_each(?)))",
      filter.visibleTo.owner,
      JSON.stringify(filter.visibleTo.projects),
    );
  }
  if (filter.labels?.requirements) addIndexedLabelConditions(filter.labels, add);
  return { clauses, params };
}

function snapshotConditions(filter: SnapshotFilter): Conditions {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, ...values: SQLInputValue[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.namespace !== undefined) add("namespace = ?", filter.namespace);
  if (filter.vclusterName !== undefined) add("vcluster_name = ?", filter.vclusterName);
  if (filter.vclusterId !== undefined) add("vcluster_id = ?", filter.vclusterId);
  if (filter.visibleVClusterIds !== undefined) {
    add("vcluster_id IN (SELECT value FROM json_each(?))", JSON.stringify([...filter.visibleVClusterIds]));
  }
  if (filter.labels && labelsInSql(filter.labels)) addLabelConditions(filter.labels, add);
  return { clauses, params };
}

/** The part of a snapshot label selector left for JavaScript: all of it, unless SQL evaluates it. */
export function jsLabels(labels: LabelPredicate | undefined): LabelPredicate | undefined {
  return labels !== undefined && !labelsInSql(labels) ? labels : undefined;
}

/** The part of a vcluster label selector left for JavaScript: one without requirements (the index answers the rest). */
export function jsVClusterLabels(labels: LabelPredicate | undefined): LabelPredicate | undefined {
  return labels !== undefined && labels.requirements === undefined ? labels : undefined;
}

function where(clauses: string[]): string {
  return clauses.length === 0 ? "" : ` WHERE ${clauses.join(" AND ")}`;
}

// Row-value comparisons let SQLite seek straight into the matching index.
const VCLUSTER_ORDERS: Record<
  VClusterOrder,
  { after: string; orderBy: string; key: (c: VClusterCursor) => SQLInputValue[] }
> = {
  name: { after: "(namespace, name) > (?, ?)", orderBy: "namespace, name", key: (c) => [c.namespace, c.name] },
  create_time: {
    after: "(create_time_ms, id) > (?, ?)",
    orderBy: "create_time_ms, id",
    key: (c) => [c.createTimeMs, c.id],
  },
  "-create_time": {
    after: "(create_time_ms, id) < (?, ?)",
    orderBy: "create_time_ms DESC, id DESC",
    key: (c) => [c.createTimeMs, c.id],
  },
};

/**
 * With a label predicate most scanned rows are rejected, so the scan reads only their labels
 * and row id, and the encoded objects are fetched for the rows that make the page. Rows found
 * through the label index arrive unordered: sorting only their keys, not their objects, keeps
 * that sort cheap.
 */
function pageColumns(filteredInJs: boolean, keysOnly = false): string {
  if (filteredInJs) return "rowid AS row_id, labels_json";
  return keysOnly ? "rowid AS row_id" : "labels_json, data";
}

/**
 * The rows of one page, in order, starting after the cursor. With `limit` the query stops at
 * that many rows; without it the caller filters rows itself and stops iterating when done.
 */
export function vclusterPageQuery(
  filter: VClusterFilter,
  order: VClusterOrder,
  after: VClusterCursor | undefined,
  limit: number | undefined,
): Query {
  const { clauses, params } = vclusterConditions(filter);
  const ordering = VCLUSTER_ORDERS[order];
  if (after !== undefined) {
    clauses.push(ordering.after);
    params.push(...ordering.key(after));
  }
  const columns = pageColumns(jsVClusterLabels(filter.labels) !== undefined, filter.labels?.requirements !== undefined);
  let sql = `SELECT ${columns} FROM vclusters${where(clauses)} ORDER BY ${ordering.orderBy}`;
  if (limit !== undefined) {
    sql += " LIMIT ?";
    params.push(limit);
  }
  return { sql, params };
}

/**
 * COUNT(*) of the matching rows, or, when a label predicate must run in JS, their labels.
 * Unfiltered, it reads the counter kept beside the rows instead of counting them.
 */
export function vclusterCountQuery(filter: VClusterFilter): Query {
  const { clauses, params } = vclusterConditions(filter);
  if (clauses.length === 0 && filter.labels === undefined) {
    return { sql: "SELECT vcluster_count AS count FROM meta WHERE id = 1", params };
  }
  // A selector alone with one requirement that names its values: the index range is the answer.
  const only =
    filter.labels?.requirements?.length === 1 && clauses.length === 1 ? filter.labels.requirements[0] : undefined;
  if (only?.operator === "=") {
    return { sql: "SELECT COUNT(*) AS count FROM vcluster_labels WHERE key = ? AND value = ?", params };
  }
  const columns = jsVClusterLabels(filter.labels) === undefined ? "COUNT(*) AS count" : "labels_json";
  return { sql: `SELECT ${columns} FROM vclusters${where(clauses)}`, params };
}

export function snapshotPageQuery(
  filter: SnapshotFilter,
  after: SnapshotCursor | undefined,
  limit: number | undefined,
): Query {
  const { clauses, params } = snapshotConditions(filter);
  if (after !== undefined) {
    clauses.push("(create_time_ms, id) < (?, ?)");
    params.push(after.createTimeMs, after.id);
  }
  let sql = `SELECT ${pageColumns(jsLabels(filter.labels) !== undefined)} FROM snapshots${where(clauses)} ORDER BY create_time_ms DESC, id DESC`;
  if (limit !== undefined) {
    sql += " LIMIT ?";
    params.push(limit);
  }
  return { sql, params };
}

export function snapshotCountQuery(filter: SnapshotFilter): Query {
  const { clauses, params } = snapshotConditions(filter);
  const columns = jsLabels(filter.labels) === undefined ? "COUNT(*) AS count" : "labels_json";
  return { sql: `SELECT ${columns} FROM snapshots${where(clauses)}`, params };
}
