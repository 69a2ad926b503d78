/**
 * The headline figures at the top of a report and their 环比 (this period against the one before).
 *
 * How a change is said depends on the unit, because "resolution up 5%" is ambiguous: rates change in
 * 百分点 (percentage points, 80% → 85% is +5.0 个百分点); counts and durations change relative to the
 * previous value (+12.3%); ratings and scores by their difference (+0.12). Whether a change is good
 * follows the metric's direction in the catalog: a shorter first response is better.
 */
import { type MetricDef, metricById } from '../../metrics/catalog.ts';
import { formatValue } from '../../metrics/format.ts';
import type { ReportBundle } from '../types.ts';

/** 会话数, 首次响应, 解决率, 满意度, 转化率: what a manager reads first. */
export const HEADLINE_METRICS = [
  'conversations',
  'frt_avg_s',
  'resolution_rate',
  'csat_avg',
  'conversion_rate',
] as const;

/** 满意度 falls back to 满意率 where a template shows that instead of the average rating. */
const ALTERNATIVES: Record<string, string[]> = { csat_avg: ['csat_pct'], conversations: ['received'] };

export type Tone = 'better' | 'worse' | 'neutral' | 'none';

export interface Change {
  text: string;
  tone: Tone;
}

export function describeChange(
  def: Pick<MetricDef, 'unit' | 'direction'>,
  current: number | null | undefined,
  previous: number | null | undefined,
): Change {
  if (current === null || current === undefined || previous === null || previous === undefined)
    return { text: '环比 —', tone: 'none' };
  const diff = current - previous;
  let amount: string;
  let zero: boolean;
  if (def.unit === 'rate') {
    const pp = Math.round(diff * 1000) / 10;
    zero = pp === 0;
    amount = `${Math.abs(pp).toFixed(1)} 个百分点`;
  } else if (def.unit === 'rating' || def.unit === 'score') {
    const d = Math.round(diff * 100) / 100;
    zero = d === 0;
    amount = Math.abs(d).toFixed(2);
  } else {
    // No base to compare with: "from 0 to 12" has no percentage.
    if (previous === 0)
      return current === 0 ? { text: '环比 持平', tone: 'neutral' } : { text: '环比 —', tone: 'none' };
    const pct = Math.round((diff / Math.abs(previous)) * 1000) / 10;
    zero = pct === 0;
    amount = `${Math.abs(pct).toFixed(1)}%`;
  }
  if (zero) return { text: '环比 持平', tone: 'neutral' };
  const up = diff > 0;
  const tone: Tone =
    def.direction === 'neutral' ? 'neutral' : up === (def.direction === 'higher') ? 'better' : 'worse';
  return { text: `环比 ${up ? '↑' : '↓'}${amount}`, tone };
}

export interface Headline {
  id: string;
  label: string;
  value: string;
  change: Change;
}

/**
 * The headline cards of a bundle: each metric from the period's total (the day and channel breakdowns
 * cover the same scope and period, so their totals are the same numbers), 环比 from the previous
 * period. A metric the bundle does not carry, or the viewer may not see, shows — rather than a 0.
 */
export function headlines(bundle: ReportBundle): Headline[] {
  const hidden = new Set(bundle.viewer.hidden);
  const totals = [bundle.current, bundle.byDay, bundle.byChannel];
  const find = (id: string) => totals.find((r) => id in r.definitions && r.total.metrics[id] !== undefined);
  return HEADLINE_METRICS.filter((id) => !hidden.has(id)).map((wanted) => {
    const id = [wanted, ...(ALTERNATIVES[wanted] ?? [])].find((m) => !hidden.has(m) && find(m)) ?? wanted;
    const def = metricById(id)!;
    const report = find(id);
    const value = report ? (report.total.metrics[id] ?? null) : null;
    const previous = id in bundle.previous.definitions ? (bundle.previous.total.metrics[id] ?? null) : null;
    return {
      id,
      label: def.zh,
      value: report ? formatValue(def, value) || '—' : '—',
      change: report ? describeChange(def, value, previous) : { text: '未包含在模板中', tone: 'none' },
    };
  });
}
