/**
 * Rollups (Chatwoot-style): every measure query summed per day, agent and channel, with the
 * duration lists kept for exact medians, and the same per month. A report grouped by agent, group,
 * channel or calendar period, filtered by time, channel, group or agent, reads a few thousand
 * rollup rows instead of every fact: the months its period covers whole from the monthly rollup,
 * the days at its edges from the daily one. Other reports (region, hour, tag, concurrency) read the
 * facts. Rollups are derived data: a fact refresh marks the days it changed (markRollupsStale) and
 * the next report rebuilds those days and their months; a bulk change, or a change of a query-time
 * setting (thresholds, resolution rule…), rebuilds them whole.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Settings } from '../model/settings.ts';
import { localKeys } from '../model/time.ts';
import { bulkInsert, whereIn } from '../store/bulk.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { getOrInsert } from '../util/maps.ts';
import { type Measures, concatValues } from './measures.ts';
import { conversationQuery } from './queries/conversations.ts';
import { firstResponseQuery } from './queries/first-response.ts';
import { responseQuery } from './queries/responses.ts';
import { aggregate, dimsOf, type MeasureQuery, type MeasureRow, type QueryOptions } from './queries/run.ts';
import { type Dimension, keyOf, type Scope, scopeSql } from './queries/scope.ts';
import { segmentQuery } from './queries/segments.ts';

/** Bump when a measure query changes: stored rollups are then rebuilt. */
const ROLLUP_VERSION = 3;
// Week, month and weekday follow from the day: grouping by them too only slows the build.
const ROLLUP_DIMS: Dimension[] = ['day', 'agent', 'channel'];
const ROLLED_UP = new Set<Dimension>(['agent', 'group', 'channel', 'day', 'week', 'month', 'weekday']);

export function rolledQueries(settings: Settings, opt: QueryOptions): MeasureQuery[] {
  return [
    conversationQuery(settings, opt),
    firstResponseQuery(settings, opt),
    segmentQuery(opt),
    responseQuery(settings, opt),
  ];
}

/** Whether a report can be answered from rollups. */
export function rollupsAnswer(scope: Scope, metricIds: string[]): boolean {
  return (
    scope.by.every((d) => ROLLED_UP.has(d)) &&
    !scope.filters.tag?.length &&
    !scope.filters.region?.length &&
    !metricIds.some((id) => id.startsWith('concurrency_'))
  );
}

function signature(settings: Settings): string {
  const { thresholds, resolution, fcr, filters } = settings;
  return createHash('sha1')
    .update(
      JSON.stringify({ ROLLUP_VERSION, thresholds, resolution, fcr, exclude: filters.excludeGreetingOnly }),
    )
    .digest('hex');
}

const table = (q: MeasureQuery) => `rollup_${q.name}`;
const monthTable = (q: MeasureQuery) => `rollup_${q.name}_month`;
/** Groupings a monthly row cannot answer: its days are summed away. */
const NEEDS_DAYS = new Set<Dimension>(['day', 'week', 'weekday']);
/** The channel of a rollup row that sums every channel of its day and agent. */
const ALL = '*';
type RollupRow = Record<string, string | number | Buffer | null>;

// ---- Which days changed --------------------------------------------------------------------------

/** The fact tables the rollups sum; each row counts on its own local day. */
const ROLLED_FACTS = ['conversations', 'segments', 'responses'] as const;
/**
 * Past this many threads in one refresh the rollups are rebuilt whole: a bulk import touches most
 * days anyway, and listing the days its facts had would cost the import time.
 */
const DAYS_FOR_AT_MOST_THREADS = 2_000;
/** Past this many changed days a whole rebuild is cheaper than day by day. */
const DAYS_REBUILT_AT_MOST = 62;

/**
 * The days the facts of these threads count on now; call before the refresh deletes them. Null
 * when there are too many threads to list (the rollups are then rebuilt whole).
 */
export async function rolledDaysOf(
  store: Store,
  tx: Kysely<Database>,
  threads: string[],
): Promise<Set<string> | null> {
  if (threads.length > DAYS_FOR_AT_MOST_THREADS) return null;
  const days = new Set<string>();
  for (const t of ROLLED_FACTS)
    for (const r of await whereIn<{ day: string }>(
      store,
      tx,
      `select distinct day from ${t} where thread`,
      threads,
    ))
      days.add(r.day);
  return days;
}

/**
 * After a refresh: the days its old facts (`before`, from rolledDaysOf) and its new facts count on
 * no longer match the rollups. Marked in the refresh's transaction, so a report never reads
 * rollups that miss a committed change.
 */
export async function markRollupsStale(
  tx: Kysely<Database>,
  before: Set<string> | null,
  facts: Record<(typeof ROLLED_FACTS)[number], readonly { day: string }[]>,
): Promise<void> {
  if (!before) {
    await tx.deleteFrom('rollup_state').execute();
    return;
  }
  const days = new Set(before);
  for (const t of ROLLED_FACTS) for (const r of facts[t]) days.add(r.day);
  if (!days.size) return;
  const mark = randomUUID();
  await tx
    .insertInto('rollup_stale_days')
    .values([...days].map((day) => ({ day, mark })))
    .onConflict((oc) => oc.column('day').doUpdateSet({ mark }))
    .execute();
}

// ---- Building ------------------------------------------------------------------------------------

/**
 * Bring the rollups up to date for these settings, as far as a report of `period` reads them:
 * nothing when they are, the changed days of the period and their months when a few changed,
 * everything otherwise. Changed days outside the period stay marked for a report that reads
 * them (while webhooks arrive, today changes all the time; last month's report need not sum it).
 * Says which it did.
 */
export async function ensureRollups(
  store: Store,
  settings: Settings,
  period: { from?: string; to?: string } = {},
): Promise<'current' | 'days' | 'whole'> {
  const sig = signature(settings);
  const state = await store.db.selectFrom('rollup_state').select('signature').executeTakeFirst();
  // Read before the facts: a day marked after this read stays marked for the next report.
  const stale = await store.db.selectFrom('rollup_stale_days').select(['day', 'mark']).execute();
  if (state?.signature === sig) {
    const { from, to } = period;
    const read = stale.filter(
      (s) => (from === undefined || s.day >= from) && (to === undefined || s.day <= to),
    );
    if (!read.length) return 'current';
    if (read.length <= DAYS_REBUILT_AT_MOST) {
      await rebuildDays(store, settings, read);
      return 'days';
    }
  }
  const built = new Map<string, RollupRow[]>();
  for (const bh of [false, true])
    for (const q of rolledQueries(settings, queryOptions(settings, bh))) {
      const rows = await aggregate(store.db, q, { by: ROLLUP_DIMS, filters: {} }, true);
      for (const row of dailyRows(q, bh, rows)) getOrInsert(built, table(q), () => []).push(row);
    }
  for (const q of rolledQueries(settings, queryOptions(settings, false)))
    built.set(monthTable(q), monthlyRows(q, built.get(table(q)) ?? []));
  await store.db.transaction().execute(async (tx) => {
    for (const q of rolledQueries(settings, queryOptions(settings, false))) {
      for (const [name, period] of [
        [table(q), 'day'],
        [monthTable(q), 'month'],
      ] as const)
        await createRollup(store, tx, q, name, period, built.get(name) ?? []);
    }
    await clearMarks(tx, stale);
    await tx.deleteFrom('rollup_state').execute();
    await tx.insertInto('rollup_state').values({ signature: sig, built_at: Date.now() }).execute();
  });
  return 'whole';
}

const queryOptions = (settings: Settings, bh: boolean): QueryOptions => ({
  businessHours: bh,
  excludeGreetingOnly: settings.filters.excludeGreetingOnly,
});

/**
 * The changed days summed again from the facts; the monthly rows of the agents those days concern
 * (before or after) summed again from their days. Other agents' months did not change.
 */
async function rebuildDays(
  store: Store,
  settings: Settings,
  stale: { day: string; mark: string }[],
): Promise<void> {
  const days = [...new Set(stale.map((s) => s.day))].sort();
  const months = [...new Set(days.map((d) => d.slice(0, 7)))];
  const built = new Map<string, RollupRow[]>();
  for (const bh of [false, true])
    for (const q of rolledQueries(settings, queryOptions(settings, bh)))
      for (const [from, to] of dayRanges(days)) {
        const rows = await aggregate(store.db, q, { by: ROLLUP_DIMS, filters: {}, from, to }, true);
        for (const row of dailyRows(q, bh, rows)) getOrInsert(built, table(q), () => []).push(row);
      }
  await store.db.transaction().execute(async (tx) => {
    for (const q of rolledQueries(settings, queryOptions(settings, false))) {
      const daily = table(q);
      const fresh = built.get(daily) ?? [];
      const old = await whereIn<RollupRow>(store, tx, `select * from ${daily} where day`, days);
      const agents = changedAgents(q, old, fresh);
      await whereIn(store, tx, `delete from ${daily} where day`, days);
      // Rollup tables are made from the query declarations, so their rows have no static type.
      await bulkInsert(store, tx, daily as never, fresh as never[]);
      const monthly = monthTable(q);
      const ids = [...agents].filter((a): a is string => a !== null);
      // Two statements rather than an OR, so that each uses the (agent_id, period) index.
      const conds = [
        ...(ids.length ? [sql`agent_id in (${sql.join(ids)})`] : []),
        ...(agents.has(null) ? [sql`agent_id is null`] : []),
      ];
      for (const month of months)
        for (const cond of conds) {
          await sql`delete from ${sql.table(monthly)} where month = ${month} and ${cond}`.execute(tx);
          const { rows } = await sql<RollupRow>`select * from ${sql.table(daily)}
            where month = ${month} and ${cond}`.execute(tx);
          await bulkInsert(store, tx, monthly as never, monthlyRows(q, rows) as never[]);
        }
    }
    await clearMarks(tx, stale);
  });
}

/**
 * The agents whose rows of the rebuilt days differ from before (a measure, the duration list, or
 * the row itself): only their months need summing again.
 */
function changedAgents(q: MeasureQuery, old: RollupRow[], fresh: RollupRow[]): Set<string | null> {
  const key = (r: RollupRow) => `${r.bh}\u0000${r.day}\u0000${r.agent_id}\u0000${r.channel}`;
  const measures = Object.keys(q.aggregates);
  const before = new Map(old.map((r) => [key(r), r]));
  const changed = new Set<string | null>();
  for (const r of fresh) {
    const o = before.get(key(r));
    before.delete(key(r));
    const same =
      o &&
      measures.every((m) => Number(o[m]) === Number(r[m])) &&
      Buffer.compare(
        Buffer.from((o.vals as Uint8Array | null) ?? []),
        Buffer.from((r.vals as Uint8Array | null) ?? []),
      ) === 0;
    if (!same) changed.add(r.agent_id as string | null);
  }
  for (const o of before.values()) changed.add(o.agent_id as string | null);
  return changed;
}

/** Unmark the days read at the start, unless a refresh marked one again since. */
async function clearMarks(tx: Kysely<Database>, stale: { day: string; mark: string }[]): Promise<void> {
  for (const { day, mark } of stale)
    await tx.deleteFrom('rollup_stale_days').where('day', '=', day).where('mark', '=', mark).execute();
}

/** Sorted days as runs of consecutive days [first, last]: one query per run. */
function dayRanges(sorted: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const d of sorted) {
    const last = out[out.length - 1];
    if (last && Date.parse(`${d}T00:00:00Z`) - Date.parse(`${last[1]}T00:00:00Z`) === 86_400_000) last[1] = d;
    else out.push([d, d]);
  }
  return out;
}

const calendarOf = (day: string) => localKeys(Date.parse(`${day}T12:00:00Z`), 'UTC');

/**
 * A measure query's rows per day, agent and channel as rollup rows: each day and agent twice, per
 * channel and for all channels (channel ALL), which is what most reports ask for and a seventh of
 * the rows to sum.
 */
function dailyRows(q: MeasureQuery, bh: boolean, rows: MeasureRow[]): RollupRow[] {
  const out: RollupRow[] = [];
  const measures = Object.keys(q.aggregates);
  const days = new Map<string, ReturnType<typeof localKeys>>();
  const all = new Map<string, { row: RollupRow; lists: Float64Array[] }>();
  for (const r of rows) {
    const dims = r.dims;
    const values = r.list ?? new Float64Array(0);
    const day = dims.day as string;
    const calendar = getOrInsert(days, day, () => calendarOf(day));
    const row: RollupRow = {
      bh: bh ? 1 : 0,
      day,
      week: calendar.week,
      month: calendar.month,
      weekday: calendar.weekday,
      agent_id: (dims.agent as string | null) ?? null,
      channel: dims.channel as string,
      ...Object.fromEntries(measures.map((m) => [m, r.values[m] ?? 0])),
      vals: q.values ? packValues(values) : null,
    };
    out.push(row);
    const sum = getOrInsert(all, `${row.day}\u0000${row.agent_id}`, () => ({
      row: { ...row, channel: ALL, ...Object.fromEntries(measures.map((m) => [m, 0])) },
      lists: [],
    }));
    for (const m of measures) (sum.row[m] as number) += row[m] as number;
    sum.lists.push(values);
  }
  for (const { row, lists: parts } of all.values()) {
    if (q.values) row.vals = packValues(concatValues(parts));
    out.push(row);
  }
  return out;
}

/** The monthly rollup: the daily rows of each month, agent and channel summed. */
function monthlyRows(q: MeasureQuery, daily: RollupRow[]): RollupRow[] {
  const measures = Object.keys(q.aggregates);
  const months = new Map<string, { row: RollupRow; lists: Float64Array[] }>();
  for (const d of daily) {
    const m = getOrInsert(months, `${d.bh}\u0000${d.month}\u0000${d.agent_id}\u0000${d.channel}`, () => ({
      // day, week and weekday of a monthly row are its first day's: never grouped by (NEEDS_DAYS).
      row: { ...d, day: `${d.month}-01`, ...Object.fromEntries(measures.map((k) => [k, 0])) },
      lists: [],
    }));
    for (const k of measures) (m.row[k] as number) += Number(d[k]);
    if (q.values) m.lists.push(unpackValues(d.vals as Uint8Array | null));
  }
  return [...months.values()].map(({ row, lists }) => ({
    ...row,
    vals: q.values ? packValues(concatValues(lists)) : null,
  }));
}

async function createRollup(
  store: Store,
  tx: Kysely<Database>,
  q: MeasureQuery,
  name: string,
  period: 'day' | 'month',
  rows: RollupRow[],
): Promise<void> {
  await tx.schema.dropTable(name).ifExists().execute();
  let t = tx.schema
    .createTable(name)
    .addColumn('bh', 'integer', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('weekday', 'integer', (c) => c.notNull())
    .addColumn('agent_id', 'text')
    .addColumn('channel', 'text', (c) => c.notNull());
  for (const m of Object.keys(q.aggregates)) t = t.addColumn(m, 'double precision', (c) => c.notNull());
  await t.addColumn('vals', store.dialect === 'postgres' ? 'bytea' : 'blob').execute();
  await tx.schema.createIndex(`${name}_${period}`).on(name).columns(['bh', 'channel', period]).execute();
  // For rebuilding a few days (rebuildDays): the days' rows, and an agent's rows of a month.
  await tx.schema.createIndex(`${name}_agent`).on(name).columns(['agent_id', period]).execute();
  if (period === 'day') await tx.schema.createIndex(`${name}_days`).on(name).column('day').execute();
  // Rollup tables are made from the query declarations, so their rows have no static type.
  await bulkInsert(store, tx, name as never, rows as never[]);
}

/**
 * The months a period covers whole, as an inclusive 'YYYY-MM' range (an open end stays open),
 * or null when it covers none.
 */
export function wholeMonths(from?: string, to?: string): { from?: string; to?: string } | null {
  const first = from && (from.endsWith('-01') ? from.slice(0, 7) : shiftMonth(from.slice(0, 7), 1));
  const last = to && (to === lastDayOf(to.slice(0, 7)) ? to.slice(0, 7) : shiftMonth(to.slice(0, 7), -1));
  if (first && last && first > last) return null;
  return { from: first || undefined, to: last || undefined };
}

function shiftMonth(month: string, by: number): string {
  const d = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

function lastDayOf(month: string): string {
  const d = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0));
  return d.toISOString().slice(0, 10);
}

/** The rollup rows a scope reads: whole months from the monthly rollup, the other days from the daily. */
function rollupSource(q: MeasureQuery, scope: Scope): string | RawBuilder<unknown> {
  if (scope.by.some((d) => NEEDS_DAYS.has(d))) return table(q);
  const whole = wholeMonths(scope.from, scope.to);
  if (!whole) return table(q);
  if (!whole.from && !whole.to) return monthTable(q);
  const inWhole = sql.join(
    [...(whole.from ? [sql`month >= ${whole.from}`] : []), ...(whole.to ? [sql`month <= ${whole.to}`] : [])],
    sql` and `,
  );
  return sql`select * from ${sql.table(monthTable(q))} where ${inWhole}
    union all select * from ${sql.table(table(q))} where not (${inWhole})`;
}

/** A measure query answered from its rollup: sums of the daily sums. */
export function fromRollup(q: MeasureQuery, opt: QueryOptions, scope: Scope): MeasureQuery {
  const perChannel = scope.by.includes('channel') || (scope.filters.channel?.length ?? 0) > 0;
  const aggregates: MeasureQuery['aggregates'] = {};
  for (const m of Object.keys(q.aggregates) as (keyof Measures)[])
    aggregates[m] = sql`sum(${sql.ref(`f.${m}`)})`;
  return {
    name: q.name,
    fact: { table: rollupSource(q, scope), agentColumn: 'agent_id', conversationColumn: null },
    where: [
      sql`f.bh = ${opt.businessHours ? 1 : 0}`,
      perChannel ? sql`f.channel <> ${ALL}` : sql`f.channel = ${ALL}`,
    ],
    aggregates,
  };
}

/** Duration lists from a rollup, joined per report key. */
export async function rollupValues(
  db: Kysely<Database>,
  q: MeasureQuery,
  opt: QueryOptions,
  scope: Scope,
): Promise<Map<string, { dims: Record<string, unknown>; values: Float64Array }>> {
  const rolled = fromRollup(q, opt, scope);
  const s = scopeSql(rolled.fact, scope, rolled.where);
  const { rows } = await sql<
    Record<string, unknown>
  >`select ${s.keys}, f.vals as vals from ${s.from} where ${s.where}`.execute(db);
  const parts = new Map<string, { dims: Record<string, unknown>; lists: Float64Array[] }>();
  for (const r of rows) {
    const entry = getOrInsert(parts, keyOf(r, scope.by), () => ({
      dims: dimsOf(r, scope),
      lists: [] as Float64Array[],
    }));
    entry.lists.push(unpackValues(r.vals as Uint8Array | null));
  }
  const out = new Map<string, { dims: Record<string, unknown>; values: Float64Array }>();
  for (const [key, e] of parts) out.set(key, { dims: e.dims, values: concatValues(e.lists) });
  return out;
}

/** Duration lists are stored as raw float64 bytes: no decoding when a report reads 10⁵ of them. */
function packValues(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function unpackValues(bytes: Uint8Array | null): Float64Array {
  if (!bytes || bytes.byteLength === 0) return new Float64Array(0);
  // Copy into an aligned buffer: a driver's Buffer may start at any byte offset.
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export type { MeasureRow };
