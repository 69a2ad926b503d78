/** Running one aggregate query over a fact table within a scope. */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { getOrInsert } from '../../util/maps.ts';
import type { Measures } from '../measures.ts';
import { type FactTable, keyOf, type Scope, scopeSql } from './scope.ts';

export interface QueryOptions {
  businessHours: boolean;
  excludeGreetingOnly: boolean;
}

/** Rows of partial measures, keyed by the report key; `keys` keeps each key's dimension values. */
export interface MeasureRows {
  rows: Map<string, Partial<Measures>>;
  keys: Map<string, Record<string, unknown>>;
}

export async function aggregate(
  db: Kysely<Database>,
  fact: FactTable,
  scope: Scope,
  aggregates: Record<string, RawBuilder<unknown>>,
  extraWhere: RawBuilder<unknown>[] = [],
): Promise<{ key: string; dims: Record<string, unknown>; values: Record<string, number> }[]> {
  const s = scopeSql(fact, scope, extraWhere);
  const cols = sql.join(Object.entries(aggregates).map(([name, expr]) => sql`${expr} as ${sql.ref(name)}`));
  const { rows } = await sql<
    Record<string, unknown>
  >`select ${s.keys}, ${cols} from ${s.from} where ${s.where} ${s.groupBy}`.execute(db);
  return rows.map((r) => {
    const values: Record<string, number> = {};
    for (const name of Object.keys(aggregates)) values[name] = Number(r[name] ?? 0);
    const dims: Record<string, unknown> = {};
    for (const d of scope.by) dims[d] = r[`k_${d}`] ?? null;
    return { key: keyOf(r, scope.by), dims, values };
  });
}

/** Values of one duration column per report key, sorted ascending (for medians and percentiles). */
export async function valuesByKey(
  db: Kysely<Database>,
  fact: FactTable,
  scope: Scope,
  column: string,
  extraWhere: RawBuilder<unknown>[] = [],
): Promise<Map<string, { dims: Record<string, unknown>; values: number[] }>> {
  const s = scopeSql(fact, scope, [...extraWhere, sql`${sql.ref(`f.${column}`)} is not null`]);
  const { rows } = await sql<
    Record<string, unknown>
  >`select ${s.keys}, ${sql.ref(`f.${column}`)} as v from ${s.from} where ${s.where}`.execute(db);
  const out = new Map<string, { dims: Record<string, unknown>; values: number[] }>();
  for (const r of rows) {
    const key = keyOf(r, scope.by);
    const entry = getOrInsert(out, key, () => {
      const dims: Record<string, unknown> = {};
      for (const d of scope.by) dims[d] = r[`k_${d}`] ?? null;
      return { dims, values: [] as number[] };
    });
    entry.values.push(Number(r.v) / 1000);
  }
  for (const e of out.values()) e.values.sort((a, b) => a - b);
  return out;
}
