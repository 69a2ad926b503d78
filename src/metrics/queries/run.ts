/**
 * Running a measure query — a fact table, its aggregates and filters, declared by each file of
 * this folder — within a scope, either over the facts or over their daily rollups (rollups.ts).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Measures } from '../measures.ts';
import { type FactTable, keyOf, type Scope, scopeSql } from './scope.ts';

export interface QueryOptions {
  businessHours: boolean;
  excludeGreetingOnly: boolean;
}

export type ValueField = 'frtValues' | 'artValues' | 'handleValues';

/** One measure query: what it sums over which fact table, and which durations it lists. */
export interface MeasureQuery {
  name: 'conversations' | 'first_response' | 'segments' | 'responses' | 'tickets';
  fact: FactTable;
  aggregates: Partial<Record<keyof Measures, RawBuilder<unknown>>>;
  where: RawBuilder<unknown>[];
  /** A duration column (ms) whose values give medians and percentiles, and the rows it counts. */
  values?: { field: ValueField; column: string; where: RawBuilder<unknown>[] };
}

export interface MeasureRow {
  key: string;
  dims: Record<string, unknown>;
  values: Record<string, number>;
  /** With `withValues`: the query's duration list (s) for this key, unordered. */
  list?: Float64Array;
}

/**
 * The aggregates of a query per key; `withValues` also lists its durations in the same scan (the
 * rollup build reads each fact table once instead of twice).
 */
export async function aggregate(
  db: Kysely<Database>,
  q: MeasureQuery,
  scope: Scope,
  withValues = false,
): Promise<MeasureRow[]> {
  const s = scopeSql(q.fact, scope, q.where);
  const names = Object.keys(q.aggregates) as (keyof Measures)[];
  const cols = sql.join(names.map((name) => sql`${q.aggregates[name]!} as ${sql.ref(name)}`));
  const list =
    withValues && q.values
      ? sql`, ${joinedValues(q.values.column, sql.join([...q.values.where, sql`1 = 1`], sql` and `))} as v`
      : sql``;
  const { rows } = await sql<
    Record<string, unknown>
  >`select ${s.keys}, ${cols} ${list} from ${s.from} where ${s.where} ${s.groupBy}`.execute(db);
  return rows.map((r) => {
    const values: Record<string, number> = {};
    for (const name of names) values[name] = Number(r[name] ?? 0);
    const row: MeasureRow = { key: keyOf(r, scope.by), dims: dimsOf(r, scope), values };
    if (withValues && q.values) row.list = parseJoined(r.v) ?? new Float64Array(0);
    return row;
  });
}

/** A duration column's values (ms) joined into one string by the database, where `cond` holds. */
function joinedValues(column: string, cond: RawBuilder<unknown>): RawBuilder<unknown> {
  const col = sql.ref(`f.${column}`);
  return sql`string_agg(case when ${cond} and ${col} is not null then cast(${col} as text) end, ',')`;
}

/** Joined milliseconds → seconds; null when there were none. */
function parseJoined(v: unknown): Float64Array | null {
  if (v === null || v === undefined) return null;
  const parts = String(v).split(',');
  const values = new Float64Array(parts.length);
  for (let i = 0; i < parts.length; i++) values[i] = Number(parts[i]) / 1000;
  return values;
}

export function dimsOf(row: Record<string, unknown>, scope: Scope): Record<string, unknown> {
  const dims: Record<string, unknown> = {};
  for (const d of scope.by) dims[d] = row[`k_${d}`] ?? null;
  return dims;
}

/**
 * Values of one time column (ms → s) per report key, unordered (segment starts and ends for
 * concurrency). The database joins each key's values into one string: one row per key instead of
 * one per fact keeps millions of values within memory.
 */
export async function valuesByKey(
  db: Kysely<Database>,
  fact: FactTable,
  scope: Scope,
  column: string,
  where: RawBuilder<unknown>[] = [],
): Promise<Map<string, { dims: Record<string, unknown>; values: Float64Array }>> {
  const s = scopeSql(fact, scope, [...where, sql`${sql.ref(`f.${column}`)} is not null`]);
  const { rows } = await sql<
    Record<string, unknown>
  >`select ${s.keys}, ${joinedValues(column, sql`1 = 1`)} as v from ${s.from} where ${s.where} ${s.groupBy}`.execute(
    db,
  );
  const out = new Map<string, { dims: Record<string, unknown>; values: Float64Array }>();
  for (const r of rows) {
    const values = parseJoined(r.v);
    if (values) out.set(keyOf(r, scope.by), { dims: dimsOf(r, scope), values });
  }
  return out;
}
