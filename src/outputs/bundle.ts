/**
 * buildBundle: a template, a period and a viewer become one ReportBundle — the only thing every
 * renderer and every delivery reads. The viewer's scope is applied here, as report filters, and
 * hidden columns are removed here, so a renderer can never show a row or a score the viewer may not
 * see. Anomalies are judged against the whole team of the template (an agent's baseline needs their
 * colleagues), then only those in the viewer's scope are kept.
 */
import { ANOMALY_DEFAULTS, type AnomalyRow, detectAnomalies } from '../metrics/anomalies.ts';
import { metricById, resolveMetric } from '../metrics/catalog.ts';
import { compileFormula, type Formula } from '../metrics/formula.ts';
import { type Report, type ReportRow, runReport, UNASSIGNED } from '../metrics/report.ts';
import type { Filters } from '../metrics/queries/scope.ts';
import type { Settings } from '../model/settings.ts';
import { localKeys, tzOffset } from '../model/time.ts';
import type { Store } from '../store/db.ts';
import { loadSettings } from '../store/settings.ts';
import { CHART_METRICS } from './charts/options.ts';
import { HEADLINE_METRICS } from './pdf/headline.ts';
import { periodsBefore, previousPeriod } from './period.ts';
import type { Anomaly, ComputedValues, Period, ReportBundle, ReportTemplate, Viewer } from './types.ts';

export interface BundleRequest {
  template: ReportTemplate;
  period: Period;
  viewer: Viewer;
  /** Clock for tickets still open past due and for generatedAt; tests pin it. */
  now?: number;
}

/** An id no agent or group has (agent ids are generated, group names come from the roster): an empty intersection selects nothing. */
const NOTHING = '(none: outside the viewer scope)';

export async function buildBundle(store: Store, req: BundleRequest): Promise<ReportBundle> {
  const settings = await loadSettings(store);
  const now = req.now ?? Date.now();
  const hidden = new Set([...req.viewer.hidden, ...(req.template.hidden ?? [])]);
  const template = visibleTemplate(req.template, hidden);
  const viewer: Viewer = { ...req.viewer, hidden: [...hidden] };
  const teamFilters = await resolveAgentFilter(store, req.template.filters);
  const filters = scoped(teamFilters, req.viewer);
  const by = template.by;

  const formulas = compileComputed(template);
  const referenced = formulas.flatMap((f) => f.formula.references.filter((r) => !!metricById(r)));
  const watch = anomalyMetrics(req.template);
  const rules = req.template.anomalies?.rules ?? [];
  const wide = unique([
    ...template.metrics,
    ...referenced,
    ...watch,
    ...rules.map((r) => r.metric),
    'received',
  ]);
  const base = { by: [by], businessHours: template.businessHours, now };
  const run = (period: Period, metrics: string[], f: Filters, extra: object = {}) =>
    runReport(store, { ...base, from: period.from, to: period.to, metrics, filters: f, ...extra }, settings);

  const previousP = previousPeriod(req.period);
  const score = template.score ? { score: template.score } : {};
  // One after another: the first report may build the rollups, which concurrent reports would race.
  const currentWide = await run(req.period, wide, filters, score);
  // The PDF's headline cards (with 环比) and its charts need these whatever the template lists;
  // a metric hidden from the viewer stays out. Renderers of the template's columns look up only those.
  const plus = (ids: readonly string[]) =>
    unique([...template.metrics, ...ids.filter((m) => !hidden.has(m))]);
  // The metrics the computed fields refer to as well: 环比 compares them too.
  const previousWide = await run(previousP, plus([...HEADLINE_METRICS, ...referenced]), filters, score);
  // Concurrency is a sweep over every segment of the period, charted nowhere: not per day or channel.
  const breakdown = (ids: readonly string[]) => plus(ids).filter((m) => !m.startsWith('concurrency_'));
  const byDay = await run(req.period, breakdown([...HEADLINE_METRICS, ...CHART_METRICS.byDay]), filters, {
    by: ['day'],
  });
  const byChannel = await run(req.period, breakdown(CHART_METRICS.byChannel), filters, { by: ['channel'] });

  const computedOf = (r: Report): ComputedValues => ({
    rows: r.rows.map((row) => evaluateComputed(formulas, row)),
    total: evaluateComputed(formulas, r.total),
  });
  const computed = { ...computedOf(currentWide), previous: computedOf(previousWide) };
  const previous = narrow(previousWide, plus([...HEADLINE_METRICS, ...(template.score ? ['score'] : [])]));
  const current = narrow(currentWide, [...template.metrics, ...(template.score ? ['score'] : [])]);

  let anomalies: Anomaly[] = [];
  if (template.sheets.includes('anomalies') || req.template.anomalies) {
    const settingsA = req.template.anomalies ?? {};
    const n = Math.max(
      settingsA.baselinePeriods ?? ANOMALY_DEFAULTS.baselinePeriods,
      ...rules.map((r) => r.periods - 1),
    );
    const history = periodsBefore(req.period, n);
    const anomalyMetrics = unique(['received', ...watch, ...rules.map((r) => r.metric)]);
    const sameScope = req.viewer.scope.kind === 'all';
    const team = sameScope ? currentWide : await run(req.period, wide, teamFilters);
    const past: Report[] = [];
    for (const p of history) past.push(await run(p, anomalyMetrics, teamFilters));
    const inScope = new Set(currentWide.rows.map((r) => rowKey(r, by)));
    const judged = detectAnomalies({
      settings: settingsA,
      defaultMetrics: watch,
      current: toAnomalyRows(team, by),
      history: past.map((r) => toAnomalyRows(r, by)),
      labels: [req.period.label, ...history.map((p) => p.label)],
      context: () => ({ zh: '', en: '' }),
    }).filter((a) => inScope.has(a.key));
    anomalies = await withContext(store, judged, {
      by,
      period: req.period,
      settings,
      filters,
      rows: toAnomalyRows(currentWide, by),
      run,
    });
  }

  return {
    template,
    period: req.period,
    previousPeriod: previousP,
    viewer,
    settings,
    generatedAt: now,
    current,
    previous,
    byDay,
    byChannel,
    computed,
    anomalies,
  };
}

// ---- Template and scope -----------------------------------------------------------------------

/** The template as this viewer may see it: hidden metrics, computed fields and the score removed. */
function visibleTemplate(t: ReportTemplate, hidden: Set<string>): ReportTemplate {
  const out: ReportTemplate = structuredClone(t);
  out.metrics = t.metrics.filter((m) => !hidden.has(m));
  out.computed = t.computed.filter((c) => !hidden.has(c.name));
  if (hidden.has('score')) delete out.score;
  out.conditionalFormats = t.conditionalFormats.filter(
    (f) => !hidden.has(f.metric) && (f.metric !== 'score' || !!out.score),
  );
  return out;
}

/** Template filters name agents by name or id; reports filter by id. */
async function resolveAgentFilter(store: Store, f: Filters): Promise<Filters> {
  if (!f.agent?.length) return { ...f };
  const rows = await store.db.selectFrom('agents').select(['id', 'name']).execute();
  const ids = f.agent.flatMap((n) => {
    const hit = rows.filter((a) => a.id === n || a.name === n);
    if (!hit.length)
      throw new Error(`模板筛选中的客服 “${n}” 不存在 / no agent "${n}" in the template's filters`);
    return hit.map((a) => a.id);
  });
  return { ...f, agent: ids };
}

/** The template's filters narrowed to the viewer's scope (an intersection, never a union). */
export function scoped(f: Filters, v: Viewer): Filters {
  const narrowTo = (list: string[] | undefined, only: string) =>
    list?.length ? (list.includes(only) ? [only] : [NOTHING]) : [only];
  if (v.scope.kind === 'group') return { ...f, group: narrowTo(f.group, v.scope.group) };
  if (v.scope.kind === 'agent') return { ...f, agent: narrowTo(f.agent, v.scope.agentId) };
  return { ...f };
}

function narrow(r: Report, keep: string[]): Report {
  const set = new Set(keep);
  const pick = (row: ReportRow): ReportRow => ({
    key: row.key,
    metrics: Object.fromEntries(Object.entries(row.metrics).filter(([k]) => set.has(k))),
  });
  return {
    ...r,
    definitions: Object.fromEntries(Object.entries(r.definitions).filter(([k]) => set.has(k))),
    rows: r.rows.map(pick),
    total: pick(r.total),
  };
}

// ---- Computed fields --------------------------------------------------------------------------

function compileComputed(t: ReportTemplate): { name: string; formula: Formula }[] {
  const names: string[] = [];
  return t.computed.map((c) => {
    const formula = compileFormula(c.formula, { names });
    names.push(c.name);
    return { name: c.name, formula };
  });
}

function evaluateComputed(
  formulas: { name: string; formula: Formula }[],
  row: ReportRow,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const { name, formula } of formulas) {
    const v = formula.evaluate((ref) => (ref in out ? out[ref] : row.metrics[ref]));
    out[name] = v === null ? null : Math.round(v * 1e6) / 1e6;
  }
  return out;
}

// ---- Anomalies --------------------------------------------------------------------------------

function anomalyMetrics(t: ReportTemplate): string[] {
  const listed = t.anomalies?.metrics;
  if (listed) return listed.map((m) => resolveMetric(m)?.id ?? m);
  return t.metrics.filter((m) => {
    const def = metricById(m);
    return def?.compute && def.direction !== 'neutral';
  });
}

function rowKey(r: ReportRow, by: ReportTemplate['by']): string {
  const v = by === 'agent' ? r.key.agent_id : r.key[by];
  return v === null || v === undefined ? '' : String(v);
}

function toAnomalyRows(r: Report, by: ReportTemplate['by']): AnomalyRow[] {
  return r.rows
    .filter((row) => rowKey(row, by) !== '')
    .map((row) => ({
      key: rowKey(row, by),
      name: String(row.key[by] ?? UNASSIGNED.zh),
      metrics: row.metrics,
      volume: row.metrics.received ?? 0,
    }));
}

interface ContextInput {
  by: ReportTemplate['by'];
  period: Period;
  settings: Settings;
  filters: Filters;
  rows: AnomalyRow[];
  run: (period: Period, metrics: string[], f: Filters, extra?: object) => Promise<Report>;
}

const fmt = (v: number) => String(+v.toFixed(2));

/**
 * Seed 000's "智能批注": the window, the volume, the concurrency peak and when it happened, the
 * channels and the channel where this metric was worst — to tell an agent's problem from a system's.
 */
async function withContext(store: Store, anomalies: Anomaly[], c: ContextInput): Promise<Anomaly[]> {
  if (!anomalies.length) return anomalies;
  const metrics = unique(['received', ...anomalies.map((a) => a.metric)]);
  const byChannel =
    c.by === 'channel' ? null : await c.run(c.period, metrics, c.filters, { by: [c.by, 'channel'] });
  const peaks = new Map<string, Peak | null>();
  if (c.by === 'agent')
    for (const key of new Set(anomalies.map((a) => a.key)))
      peaks.set(key, await concurrencyPeak(store, key, c.period, c.settings));
  const rows = new Map(c.rows.map((r) => [r.key, r]));
  return anomalies.map((a) => {
    const row = rows.get(a.key);
    const zh = [`时段 ${c.period.from}–${c.period.to}`, `接待 ${fmt(row?.volume ?? 0)} 个会话`];
    const en = [`window ${c.period.from}–${c.period.to}`, `${fmt(row?.volume ?? 0)} conversations received`];
    const peak = peaks.get(a.key);
    if (peak) {
      zh.push(`${peak.from}–${peak.to.slice(11)} 同时处理 ${peak.max} 个会话(最高并发)`);
      en.push(`${peak.from}–${peak.to.slice(11)}: ${peak.max} concurrent conversations (the peak)`);
    }
    if (byChannel) {
      const mine = byChannel.rows.filter((r) => rowKey(r, c.by) === a.key && r.key.channel !== null);
      const total = mine.reduce((s, r) => s + (r.metrics.received ?? 0), 0);
      const top = [...mine].sort((x, y) => (y.metrics.received ?? 0) - (x.metrics.received ?? 0)).slice(0, 3);
      if (top.length && total > 0) {
        const share = top.map(
          (r) => `${r.key.channel} ${Math.round(((r.metrics.received ?? 0) / total) * 100)}%`,
        );
        zh.push(`渠道 ${share.join('、')}`);
        en.push(`channels ${share.join(', ')}`);
      }
      const def = metricById(a.metric);
      const valued = mine.filter((r) => typeof r.metrics[a.metric] === 'number');
      if (def && def.direction !== 'neutral' && valued.length > 1) {
        const worst = valued.reduce((w, r) =>
          (
            def.direction === 'lower'
              ? r.metrics[a.metric]! > w.metrics[a.metric]!
              : r.metrics[a.metric]! < w.metrics[a.metric]!
          )
            ? r
            : w,
        );
        zh.push(`${def.zh}最差的渠道 ${worst.key.channel}:${fmt(worst.metrics[a.metric]!)}`);
        en.push(`worst channel for ${def.en}: ${worst.key.channel} ${fmt(worst.metrics[a.metric]!)}`);
      }
    }
    return { ...a, context: { zh: zh.join(';'), en: en.join('; ') } };
  });
}

interface Peak {
  max: number;
  /** Local 'YYYY-MM-DD HH:MM'. */
  from: string;
  to: string;
}

/** When the agent's concurrency first reached its maximum in the period, and until when it held. */
async function concurrencyPeak(store: Store, agentId: string, p: Period, s: Settings): Promise<Peak | null> {
  let q = store.db
    .selectFrom('segments')
    .select(['start_ts', 'end_ts'])
    .where('agent_id', '=', agentId)
    .where('day', '>=', p.from)
    .where('day', '<=', p.to);
  if (s.filters.excludeGreetingOnly) q = q.where('invalid', '=', 0);
  const segs = await q.execute();
  if (!segs.length) return null;
  const events: [number, number][] = [];
  for (const x of segs) events.push([Number(x.start_ts), 1], [Number(x.end_ts), -1]);
  // Ends before starts at the same instant, as the report's sweep: back-to-back is not concurrent.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  let from = 0;
  let to = 0;
  let inPeak = false;
  for (const [t, d] of events) {
    open += d;
    if (open > max) {
      max = open;
      from = t;
      inPeak = true;
    } else if (inPeak && open < max) {
      to = t;
      inPeak = false;
    }
  }
  return { max, from: local(from, s.timezone), to: local(to || from, s.timezone) };
}

function local(ts: number, tz: string): string {
  const k = localKeys(ts, tz);
  const minutes = new Date(ts + tzOffset(ts, tz)).getUTCMinutes();
  return `${k.day} ${String(k.hour).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

const unique = (xs: string[]) => [...new Set(xs)];
