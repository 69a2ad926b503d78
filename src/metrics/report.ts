/**
 * A report: metrics of the catalog for each row of a grouping, over a scope. Runs the fact queries
 * (src/metrics/queries, one per attribution), merges their measures by key, and computes each
 * requested metric from the catalog — the only place a number's formula lives.
 */
import type { Settings } from '../model/settings.ts';
import type { Store } from '../store/db.ts';
import { loadSettings } from '../store/settings.ts';
import { DEFAULT_REPORT_METRICS, METRICS, type MetricDef, metricById, resolveMetric } from './catalog.ts';
import { emptyMeasures, type Measures, sumMeasures } from './measures.ts';
import type { QueryOptions } from './queries/run.ts';
import { aggregate, type MeasureQuery } from './queries/run.ts';
import { DIMENSIONS, type Dimension, type Filters, type Scope } from './queries/scope.ts';
import { segmentIntervals } from './queries/segments.ts';
import { ticketQuery } from './queries/tickets.ts';
import { ensureRollups, fromRollup, rolledQueries, rollupsAnswer, rollupValues } from './rollups.ts';
import { computeScore, type ScoreModel } from './scores.ts';
import { getOrInsert } from '../util/maps.ts';

export interface ReportRequest {
  from?: string;
  to?: string;
  by?: Dimension[];
  metrics?: string[];
  businessHours?: boolean;
  filters?: Filters & { agentNames?: string[] };
  score?: ScoreModel;
  /** Clock for "still open past due"; tests pin it. */
  now?: number;
  /** false: always read the facts (tests compare both paths). */
  useRollups?: boolean;
}

export interface ReportRow {
  key: Record<string, string | number | null>;
  metrics: Record<string, number | null>;
}

export interface Report {
  period: { from: string | null; to: string | null };
  timezone: string;
  businessHours: boolean;
  by: Dimension[];
  filters: Filters;
  definitions: Record<
    string,
    { zh: string; en: string; unit: string; direction: string; definition: { zh: string; en: string } }
  >;
  rows: ReportRow[];
  total: ReportRow;
  score?: { name: string; missing: string[] };
}

export const UNASSIGNED = { zh: '未分配', en: 'Unassigned' };

/** Turn user-given metric names (ids, or zh/en names) into catalog entries; unknown names are an error. */
export function resolveMetrics(names: string[] | undefined): MetricDef[] {
  const list = names?.length ? names : DEFAULT_REPORT_METRICS;
  return list.map((n) => {
    const m = resolveMetric(n);
    if (!m)
      throw new Error(`unknown metric "${n}"; see \`cspulse metrics\` for the ${METRICS.length} metrics`);
    return m;
  });
}

export async function runReport(store: Store, req: ReportRequest, settingsIn?: Settings): Promise<Report> {
  const settings = settingsIn ?? (await loadSettings(store));
  for (const d of req.by ?? [])
    if (!DIMENSIONS.includes(d))
      throw new Error(`cannot group by "${d}"; expected one of ${DIMENSIONS.join(', ')}`);
  for (const [name, day] of [
    ['from', req.from],
    ['to', req.to],
  ] as const) {
    if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day))
      throw new Error(`--${name}: expected a date YYYY-MM-DD, got "${day}"`);
  }
  const metrics = resolveMetrics(req.metrics);
  const wanted = new Map(metrics.map((m) => [m.id, m]));
  for (const c of req.score?.components ?? []) {
    const m = resolveMetric(c.metric);
    if (m) wanted.set(m.id, m);
  }
  const agentRows = await store.db.selectFrom('agents').select(['id', 'name', 'group_name']).execute();
  const agents = new Map(agentRows.map((a) => [a.id, a]));
  const filters: Filters = { ...req.filters };
  if (req.filters?.agentNames?.length) {
    const ids = req.filters.agentNames.map((n) => {
      const hit = agentRows.filter((a) => a.name === n || a.id === n);
      if (!hit.length) throw new Error(`no agent named "${n}" (see \`cspulse agents list\`)`);
      return hit.map((a) => a.id);
    });
    filters.agent = [...(filters.agent ?? []), ...ids.flat()];
  }
  delete (filters as { agentNames?: unknown }).agentNames;

  const by = req.by ?? [];
  const opt: QueryOptions = {
    businessHours: !!req.businessHours,
    excludeGreetingOnly: settings.filters.excludeGreetingOnly,
  };
  const scope: Scope = { from: req.from, to: req.to, by, filters };
  const grouped = await measure(
    store,
    scope,
    settings,
    opt,
    [...wanted.keys()],
    req.now ?? Date.now(),
    req.useRollups ?? true,
  );
  const total = sumMeasures([...grouped.values()].map((g) => g.m));

  /** dims null: the total row, which has no key. */
  const toRow = (dims: Record<string, unknown> | null, m: Measures): ReportRow => {
    const key: ReportRow['key'] = {};
    for (const d of dims ? by : []) {
      const v = dims?.[d];
      if (d === 'agent') {
        const a = v === null || v === undefined ? undefined : agents.get(String(v));
        key.agent = a?.name ?? (v ? String(v) : UNASSIGNED.zh);
        key.agent_id = v === null || v === undefined ? null : String(v);
        if (!by.includes('group')) key.group = a?.group_name ?? null;
      } else if (d === 'hour' || d === 'weekday') key[d] = v === null || v === undefined ? null : Number(v);
      else key[d] = v === null || v === undefined ? null : String(v);
    }
    const values: Record<string, number | null> = {};
    const all: Record<string, number | null> = {};
    for (const def of wanted.values()) {
      const v = def.compute ? def.compute(m) : null;
      all[def.id] = v === null || !Number.isFinite(v) ? null : round(v);
    }
    for (const def of metrics) values[def.id] = all[def.id]!;
    if (req.score) values.score = computeScore(req.score, all).score;
    return { key, metrics: values };
  };

  const rows = [...grouped.values()].map(({ dims, m }) => toRow(dims, m));
  rows.sort((a, b) => compareKeys(a.key, b.key, by));
  const definitions: Report['definitions'] = {};
  for (const m of metrics)
    definitions[m.id] = {
      zh: m.zh,
      en: m.en,
      unit: m.unit,
      direction: m.direction,
      definition: m.definition,
    };
  if (req.score) {
    definitions.score = {
      zh: req.score.name,
      en: req.score.name,
      unit: 'score',
      direction: 'higher',
      definition: { zh: `绩效得分模型 “${req.score.name}”`, en: `Score model "${req.score.name}"` },
    };
  }
  const totalRow = toRow(null, total);
  return {
    period: { from: req.from ?? null, to: req.to ?? null },
    timezone: settings.timezone,
    businessHours: !!req.businessHours,
    by,
    filters,
    definitions,
    rows,
    total: totalRow,
    ...(req.score
      ? { score: { name: req.score.name, missing: computeScore(req.score, totalRow.metrics).missing } }
      : {}),
  };
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function compareKeys(a: ReportRow['key'], b: ReportRow['key'], by: Dimension[]): number {
  for (const d of by) {
    const k = d === 'agent' ? 'agent' : d;
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return typeof x === 'number' && typeof y === 'number'
      ? x - y
      : String(x).localeCompare(String(y), 'zh-CN');
  }
  return 0;
}

/**
 * Run the measure queries a set of metrics needs — over the daily rollups when they can answer,
 * else over the facts — and merge their measures per report key.
 */
async function measure(
  store: Store,
  scope: Scope,
  settings: Settings,
  opt: QueryOptions,
  metricIds: string[],
  now: number,
  useRollups: boolean,
): Promise<Map<string, { dims: Record<string, unknown>; m: Measures }>> {
  const db = store.db;
  const out = new Map<string, { dims: Record<string, unknown>; m: Measures }>();
  const entry = (key: string, dims: Record<string, unknown>) =>
    getOrInsert(out, key, () => ({ dims, m: emptyMeasures() }));
  const listed = new Set<string>();
  for (const id of metricIds) {
    const m = /^(frt|art|handle)_(median|p90)_s$/.exec(id);
    if (m) listed.add(`${m[1]}Values`);
  }
  const rolled = useRollups && rollupsAnswer(scope, metricIds);
  if (rolled) await ensureRollups(store, settings, scope);
  const queries = rolledQueries(settings, opt);
  const wantsList = (q: MeasureQuery) => !!q.values && listed.has(q.values.field);
  // From the facts, durations are listed in the same scan as the sums; rollups keep them apart.
  const aggregates = await Promise.all([
    ...queries.map((q) =>
      rolled ? aggregate(db, fromRollup(q, opt, scope), scope) : aggregate(db, q, scope, wantsList(q)),
    ),
    metricIds.some((id) => metricById(id)?.group === 'tickets') ? aggregate(db, ticketQuery(now), scope) : [],
  ]);
  for (const [i, rows] of aggregates.entries()) {
    const field = queries[i]?.values?.field;
    for (const r of rows) {
      const m = entry(r.key, r.dims).m;
      Object.assign(m, r.values);
      if (field && r.list?.length) m[field] = r.list;
    }
  }
  if (rolled) {
    for (const q of queries) {
      if (!wantsList(q)) continue;
      const lists = await rollupValues(db, q, opt, scope);
      for (const [key, v] of lists) entry(key, v.dims).m[q.values!.field] = v.values;
    }
  }
  if (metricIds.some((id) => id.startsWith('concurrency_'))) await addConcurrency(store, scope, opt, entry);
  return out;
}

/**
 * Concurrency per agent by a sweep over segment starts and ends; a row that spans several agents
 * shows the highest agent maximum and the busy-time-weighted average.
 */
async function addConcurrency(
  store: Store,
  scope: Scope,
  opt: QueryOptions,
  entry: (key: string, dims: Record<string, unknown>) => { m: Measures },
): Promise<void> {
  const { rows: starts, ends, withAgent } = await segmentIntervals(store.db, scope, opt);
  const agentIndex = withAgent.by.indexOf('agent');
  const acc = new Map<string, { dims: Record<string, unknown>; max: number; area: number; busy: number }>();
  for (const [key, s] of starts) {
    const e = ends.get(key)?.values ?? [];
    let i = 0;
    let j = 0;
    let open = 0;
    let max = 0;
    let area = 0;
    let busy = 0;
    let last = 0;
    while (i < s.values.length || j < e.length) {
      // Ends before starts at the same instant: back-to-back segments are not concurrent.
      const t = j < e.length && (i >= s.values.length || e[j]! <= s.values[i]!) ? e[j]! : s.values[i]!;
      if (open > 0) {
        area += open * (t - last);
        busy += t - last;
      }
      last = t;
      if (j < e.length && (i >= s.values.length || e[j]! <= s.values[i]!)) {
        open--;
        j++;
      } else {
        open++;
        i++;
        max = Math.max(max, open);
      }
    }
    const parts = key.split('\u0000');
    parts.splice(agentIndex, scope.by.includes('agent') ? 0 : 1);
    const outerKey = scope.by.includes('agent') ? key : parts.join('\u0000');
    const dims = { ...s.dims };
    if (!scope.by.includes('agent')) delete dims.agent;
    const a = getOrInsert(acc, outerKey, () => ({ dims, max: 0, area: 0, busy: 0 }));
    a.max = Math.max(a.max, max);
    a.area += area;
    a.busy += busy;
  }
  for (const [key, a] of acc) {
    const m = entry(key, a.dims).m;
    m.concurrencyMax = a.max;
    m.concurrencyArea = a.area;
    m.concurrencyBusy = a.busy;
  }
}
