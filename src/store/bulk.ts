/**
 * The bulk loader: inserting many rows fast, the one place that speaks each dialect natively (as
 * COPY would on PostgreSQL). On SQLite one prepared statement per table, run row by row inside the
 * caller's transaction, is 1.5–2× faster than Kysely's multi-row INSERT (measured: 67k vs 38k
 * rows/s for events) and tells exactly which rows were new. On PostgreSQL, multi-row INSERTs.
 */
import type { Insertable, Kysely } from 'kysely';
import type { Store } from './db.ts';
import { rowsPerInsert } from './db.ts';
import type { Database } from './schema.ts';
import { getOrInsert } from '../util/maps.ts';

type Row = Record<string, string | number | null>;

const statements = new WeakMap<object, Map<string, { run(...v: unknown[]): { changes: number } }>>();

/**
 * Insert rows (all with the same columns), skipping rows that conflict with a unique key.
 * Returns, for each row, whether it was inserted. `db` is the transaction to run in.
 */
export async function bulkInsert<T extends keyof Database>(
  store: Store,
  db: Kysely<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
  returnKey?: (keyof Database[T] & string)[],
): Promise<boolean[]> {
  if (!rows.length) return [];
  const cols = Object.keys(rows[0]!);
  if (store.sqlite) {
    const cache = getOrInsert(statements, store.sqlite, () => new Map());
    const sig = `${table}(${cols.join(',')})`;
    let st = cache.get(sig);
    if (!st) {
      st = store.sqlite.prepare(
        `insert into "${table}" (${cols.map((c) => `"${c}"`).join(',')}) values (${cols.map(() => '?').join(',')}) on conflict do nothing`,
      );
      cache.set(sig, st);
    }
    const out = new Array<boolean>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as unknown as Row;
      out[i] = st.run(...cols.map((c) => r[c] ?? null)).changes > 0;
    }
    return out;
  }
  const out: boolean[] = [];
  const per = rowsPerInsert(cols.length);
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const q = db
      .insertInto(table)
      // biome-ignore lint/suspicious/noExplicitAny: the table is generic; rows are typed by the caller.
      .values(chunk as any)
      .onConflict((oc) => oc.doNothing());
    if (!returnKey) {
      await q.execute();
      for (const _ of chunk) out.push(true);
      continue;
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const added = (await q.returning(returnKey as any).execute()) as Row[];
    const keyOf = (r: Row) => returnKey.map((k) => String(r[k])).join('\u0000');
    const inserted = new Set(added.map(keyOf));
    for (const r of chunk) out.push(inserted.has(keyOf(r as unknown as Row)));
  }
  return out;
}
