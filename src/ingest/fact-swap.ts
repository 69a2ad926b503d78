/**
 * Swapping a refresh's facts into the store. A refresh recomputes whole threads, yet a message
 * that arrives live mostly changes the tail of its thread's facts: the last conversation and
 * segment, a response or two; the thread's earlier responses and its tags stay as they were. The
 * live refresh remembers the rows it last wrote for each thread it keeps (`FactsMemo`, held with
 * the thread's events in LiveThreads), and per thread and table rewrites only what changed:
 * nothing when the rows are the same, the new rows alone when the old ones are their start, else
 * the rows from the first that changed on (conversations and segments, which have ids) or all of
 * the thread's rows (responses and tags). Without a memo (imports, PostgreSQL) every thread's rows are
 * deleted and inserted, as a plain swap.
 *
 * A memo holds only while this refresh alone writes the facts. Every swap counts itself in
 * `facts_epoch` (migration 010), in its transaction; a count other than the one the memo left
 * means another refresh (another process's import, say) wrote meanwhile, and the memo is dropped.
 */
import type { Kysely } from 'kysely';
import { bulkInsert, whereIn } from '../store/bulk.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { getOrInsert } from '../util/maps.ts';
import type { ThreadFacts } from './sessionise.ts';

const TABLES = ['conversations', 'segments', 'responses', 'conversation_tags', 'tickets'] as const;
type FactTable = (typeof TABLES)[number];
type Row = { thread: string } & object;
/** A thread's rows, one list per table of TABLES, in the order the sessioniser gives them. */
type ThreadRows = Row[][];

/** Tables whose rows have a key of their own: a changed row is replaced alone. */
const BY_ID = new Set<FactTable>(['conversations', 'segments']);

const rowsOf = (f: ThreadFacts, table: FactTable): Row[] =>
  table === 'conversation_tags' ? f.tags : f[table];

export class FactsMemo {
  private rows = new Map<string, ThreadRows>();
  /** The count of swaps after the last one that set rows here. */
  epoch: number | undefined;

  get(thread: string): ThreadRows | undefined {
    return this.rows.get(thread);
  }
  set(thread: string, rows: ThreadRows): void {
    this.rows.set(thread, rows);
  }
  delete(thread: string): void {
    this.rows.delete(thread);
  }
  clear(): void {
    this.rows.clear();
    this.epoch = undefined;
  }
}

/** Same columns, same values: fact rows are flat. */
function sameRow(a: object, b: object): boolean {
  // Settled conversations' rows are handed back as they were (live-threads.ts).
  if (a === b) return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in y) if (x[k] !== y[k]) return false;
  return true;
}

/**
 * In the refresh's transaction: replace the facts of `stored` (threads that had facts) and insert
 * those of threads new to the store. `keep(thread)`: whether the memo may hold the thread (it is
 * kept with its events); the memo is updated only once the caller's transaction has committed, by
 * the function returned.
 */
export async function swapFacts(
  store: Store,
  tx: Kysely<Database>,
  stored: string[],
  facts: ThreadFacts,
  memo?: FactsMemo,
  keep?: (thread: string) => boolean,
): Promise<() => void> {
  const epoch = await countSwap(tx);
  if (!memo) {
    // A plain swap (an import's refresh: a million rows need no sorting by thread).
    for (const table of TABLES) {
      await whereIn(store, tx, `delete from ${table} where thread`, stored);
      // biome-ignore lint/suspicious/noExplicitAny: each list holds the rows of its own table.
      await bulkInsert(store, tx, table, rowsOf(facts, table) as any[]);
    }
    return () => {};
  }
  const valid = memo.epoch === epoch - 1;
  if (!valid) memo.clear();

  const fresh = new Map<string, ThreadRows>();
  TABLES.forEach((table, i) => {
    for (const row of rowsOf(facts, table))
      getOrInsert(fresh, row.thread, () => TABLES.map(() => []))[i]!.push(row);
  });
  const none: ThreadRows = TABLES.map(() => []);
  const replaced = new Set(stored);
  const wholly: string[] = [];
  const deletes: string[][] = TABLES.map(() => []);
  const byId: string[][] = TABLES.map(() => []);
  const inserts: Row[][] = TABLES.map(() => []);
  const insert = (i: number, rows: Row[], from = 0) => {
    const into = inserts[i]!;
    for (let k = from; k < rows.length; k++) into.push(rows[k]!);
  };
  for (const [thread, rows] of fresh)
    if (!replaced.has(thread)) for (let i = 0; i < TABLES.length; i++) insert(i, rows[i]!);
  for (const thread of stored) {
    const now = fresh.get(thread) ?? none;
    const old = valid ? memo.get(thread) : undefined;
    if (!old) {
      wholly.push(thread);
      for (let i = 0; i < TABLES.length; i++) insert(i, now[i]!);
      continue;
    }
    for (let i = 0; i < TABLES.length; i++) {
      const was = old[i]!;
      const is = now[i]!;
      let same = 0;
      while (same < was.length && same < is.length && sameRow(was[same]!, is[same]!)) same++;
      if (same === was.length) insert(i, is, same);
      else if (BY_ID.has(TABLES[i]!)) {
        // The thread's last conversation and segment change with each message: only they go.
        for (let k = same; k < was.length; k++) byId[i]!.push((was[k] as Row & { id: string }).id);
        insert(i, is, same);
      } else {
        deletes[i]!.push(thread);
        insert(i, is);
      }
    }
  }
  for (const [i, table] of TABLES.entries()) {
    await whereIn(store, tx, `delete from ${table} where thread`, [...wholly, ...deletes[i]!]);
    await whereIn(store, tx, `delete from ${table} where id`, byId[i]!);
    // biome-ignore lint/suspicious/noExplicitAny: each list holds the rows of its own table.
    await bulkInsert(store, tx, table, inserts[i]! as any[]);
  }
  return () => {
    memo.epoch = epoch;
    for (const thread of new Set([...stored, ...fresh.keys()]))
      if (keep?.(thread)) memo.set(thread, fresh.get(thread) ?? none);
      else memo.delete(thread);
  };
}

/** One more swap; returns the count after it. */
async function countSwap(tx: Kysely<Database>): Promise<number> {
  const row = await tx
    .updateTable('facts_epoch')
    .set((eb) => ({ n: eb('n', '+', 1) }))
    .returning('n')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
