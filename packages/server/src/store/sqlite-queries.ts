import type { SQLInputValue } from "node:sqlite";
import type { LabelRequirement } from "@open-vcluster/core";
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
  seq: string,
  skip?: LabelRequirement,
): void {
  const having = (valueClause: string) => `SELECT seq FROM vcluster_labels WHERE key = ?${valueClause}`;
  for (const requirement of labels.requirements ?? []) {
    if (requirement === skip) continue;
    const { key, operator, values } = requirement;
    switch (operator) {
      case "=":
        add(`${seq} IN (${having(" AND value = ?")})`, key, values[0] ?? "");
        break;
      case "!=":
        add(`${seq} NOT IN (${having(" AND value = ?")})`, key, values[0] ?? "");
        break;
      case "in":
        add(`${seq} IN (${having(" AND value IN (SELECT value FROM json_each(?))")})`, key, JSON.stringify(values));
        break;
      case "notin":
        add(`${seq} NOT IN (${having(" AND value IN (SELECT value FROM json_each(?))")})`, key, JSON.stringify(values));
        break;
      case "exists":
        add(`${seq} IN (${having("")})`, key);
        break;
      case "!exists":
        add(`${seq} NOT IN (${having("")})`, key);
        break;
    }
  }
}

/**
 * The filter as conditions on the vclusters columns, named with `table` (a prefix such as "v."
 * when the query joins). `skip` is a label requirement the query answers otherwise.
 */
function vclusterConditions(filter: VClusterFilter, table = "", skip?: LabelRequirement): Conditions {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, ...values: SQLInputValue[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.namespace !== undefined) add(`${table}namespace = ?`, filter.namespace);
  if (filter.name !== undefined) add(`${table}name = ?`, filter.name);
  if (filter.phases !== undefined && filter.phases.length > 0) {
    add(`${table}phase IN (SELECT value FROM json_each(?))`, JSON.stringify(filter.phases));
  }
  if (filter.owner !== undefined) add(`${table}owner = ?`, filter.owner);
  if (filter.project !== undefined) add(`${table}project = ?`, filter.project);
  if (filter.visibleTo !== undefined) {
    add(
      `(${table}owner = ? OR ${table}project IN (SELECT value FROM json_each(?)))`,
      filter.visibleTo.owner,
      JSON.stringify(filter.visibleTo.projects),
    );
  }
  if (filter.labels?.requirements) addIndexedLabelConditions(filter.labels, add, `${table}seq`, skip);
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

// Row-value comparisons let SQLite seek straight into the matching index. The label pairs
// carry the same key columns, so a page driven by them uses the same text with their prefix.
const VCLUSTER_ORDERS: Record<
  VClusterOrder,
  { after: (t: string) => string; orderBy: (t: string) => string; key: (c: VClusterCursor) => SQLInputValue[] }
> = {
  name: {
    after: (t) => `(${t}namespace, ${t}name) > (?, ?)`,
    orderBy: (t) => `${t}namespace, ${t}name`,
    key: (c) => [c.namespace, c.name],
  },
  create_time: {
    after: (t) => `(${t}create_time_ms, ${t}id) > (?, ?)`,
    orderBy: (t) => `${t}create_time_ms, ${t}id`,
    key: (c) => [c.createTimeMs, c.id],
  },
  "-create_time": {
    after: (t) => `(${t}create_time_ms, ${t}id) < (?, ?)`,
    orderBy: (t) => `${t}create_time_ms DESC, ${t}id DESC`,
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
  return keysOnly ? "rowid AS row_id" : "id, labels_json, data";
}

/**
 * The rows of one page, in order, starting after the cursor. With `limit` the query stops at
 * that many rows; without it the caller filters rows itself and stops iterating when done.
 * With `driver`, the page walks that requirement's label pairs in order and joins each to its
 * row, so it reads about `limit` pairs however many vclusters match.
 */
export function vclusterPageQuery(
  filter: VClusterFilter,
  order: VClusterOrder,
  after: VClusterCursor | undefined,
  limit: number | undefined,
  driver?: LabelRequirement,
): Query {
  const ordering = VCLUSTER_ORDERS[order];
  if (driver !== undefined) {
    const { clauses, params } = vclusterConditions(filter, "v.", driver);
    clauses.unshift("l.key = ?", "l.value = ?");
    params.unshift(driver.key, driver.values[0] ?? "");
    if (after !== undefined) {
      clauses.push(ordering.after("l."));
      params.push(...ordering.key(after));
    }
    // CROSS JOIN keeps the label pairs as the outer loop, in index order: no sort.
    let sql = `SELECT v.id, v.labels_json, v.data FROM vcluster_labels AS l CROSS JOIN vclusters AS v ON v.seq = l.seq${where(clauses)} ORDER BY ${ordering.orderBy("l.")}`;
    if (limit !== undefined) {
      sql += " LIMIT ?";
      params.push(limit);
    }
    return { sql, params };
  }
  const { clauses, params } = vclusterConditions(filter);
  if (after !== undefined) {
    clauses.push(ordering.after(""));
    params.push(...ordering.key(after));
  }
  const columns = pageColumns(jsVClusterLabels(filter.labels) !== undefined, filter.labels?.requirements !== undefined);
  let sql = `SELECT ${columns} FROM vclusters${where(clauses)} ORDER BY ${ordering.orderBy("")}`;
  if (limit !== undefined) {
    sql += " LIMIT ?";
    params.push(limit);
  }
  return { sql, params };
}

/** How many vclusters carry the label pair (from the kept tally). */
export const LABEL_TALLY = "SELECT count FROM label_counts WHERE key = ? AND value = ?";
/** How many vclusters live in the namespace (from the kept tally). */
export const NAMESPACE_TALLY = "SELECT count FROM namespace_counts WHERE namespace = ?";

/**
 * COUNT(*) of the matching rows, or, when a label predicate must run in JS, their labels.
 * Filters of one part read the tallies kept beside the rows instead of counting them: one
 * namespace, or one label requirement that names a key (`=`, `in`, `exists`). Anything else
 * (several parts, `!=`, `notin`, `!exists`) is counted from the rows. Undefined: no filter at
 * all, whose count is the store's kept total.
 */
export function vclusterCountQuery(filter: VClusterFilter): Query | undefined {
  const { clauses, params } = vclusterConditions(filter);
  if (clauses.length === 0 && filter.labels === undefined) return undefined;
  if (clauses.length === 1 && filter.namespace !== undefined) {
    return { sql: "SELECT COALESCE((SELECT count FROM namespace_counts WHERE namespace = ?), 0) AS count", params };
  }
  const only =
    filter.labels?.requirements?.length === 1 && clauses.length === 1 ? filter.labels.requirements[0] : undefined;
  // Each sums the tallies of the pairs the requirement matches; json_each's values are distinct per row.
  if (only?.operator === "=") {
    return { sql: "SELECT COALESCE(SUM(count), 0) AS count FROM label_counts WHERE key = ? AND value = ?", params };
  }
  if (only?.operator === "in") {
    return {
      sql: "SELECT COALESCE(SUM(count), 0) AS count FROM label_counts WHERE key = ? AND value IN (SELECT value FROM json_each(?))",
      params,
    };
  }
  if (only?.operator === "exists") {
    return { sql: "SELECT COALESCE(SUM(count), 0) AS count FROM label_counts WHERE key = ?", params };
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

/** Rows one history insert writes at most (five parameters each, far below SQLite's limit). */
export const HISTORY_ROWS_PER_INSERT = 64;

/** An insert of `rows` history entries (one prepared statement per row count). */
export function historyInsert(rows: number): string {
  const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?)").join(", ");
  return `INSERT INTO history (vcluster_id, kind, sequence, time_ms, data) VALUES ${values}`;
}
