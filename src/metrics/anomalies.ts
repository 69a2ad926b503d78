/**
 * 异常提醒 (METRICS.md "Anomalies"). A row's metric is anomalous when it leaves
 *   - its own recent baseline: robust z-score (x − median) / (1.4826 · MAD) over the row's values in
 *     the last N periods (default 6), at least 3 of them present; or
 *   - the team's distribution in the same period: the same z against the other rows' values.
 * Only a move in the worse direction counts (a faster first response needs no attention); metrics
 * without a better direction count both ways. MAD is floored at 5% of the median, so a history of
 * identical values does not make a one-second change infinitely unusual. Rows with too little volume
 * are not judged at all: three conversations make no baseline.
 *
 * Plain rules ("frt_avg_s > 120 for 2 consecutive weeks") hold when the value passes the threshold in
 * the current period and in each of the periods just before it.
 *
 * The detection is pure (reports in, anomalies out); the context a manager needs — window, volume,
 * concurrency, channel — is supplied by the caller (src/outputs/bundle.ts reads it from the store).
 */
import type { AnomalySettings, Anomaly } from '../outputs/types.ts';
import { metricById, resolveMetric } from './catalog.ts';

export const ANOMALY_DEFAULTS = { baselinePeriods: 6, z: 3, teamZ: 3, minVolume: 5 } as const;
/** Scales MAD to a standard deviation for normally distributed data. */
const MAD_SCALE = 1.4826;
const MIN_SAMPLE = 3;
const MAD_FLOOR = 0.05;

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Robust z of `value` against `sample`; null when the sample is too small or has no spread at all. */
export function robustZ(value: number, sample: readonly number[]): { z: number; median: number } | null {
  if (sample.length < MIN_SAMPLE) return null;
  const med = median(sample)!;
  const mad = median(sample.map((x) => Math.abs(x - med)))!;
  const scale = Math.max(MAD_SCALE * mad, MAD_FLOOR * Math.abs(med));
  if (scale === 0) return null;
  return { z: (value - med) / scale, median: med };
}

export interface AnomalyRow {
  /** Row key: agent id, group or channel. */
  key: string;
  name: string;
  metrics: Record<string, number | null>;
  /** Volume that decides whether the row is judged (received conversations). */
  volume: number;
}

export interface DetectInput {
  settings: AnomalySettings;
  /** Metrics to judge when settings.metrics is absent. */
  defaultMetrics: string[];
  current: AnomalyRow[];
  /** The rows of the periods before, most recent first. */
  history: AnomalyRow[][];
  /** Labels of the current and earlier periods, for the reasons: [current, previous, …]. */
  labels: string[];
  context: (row: AnomalyRow, metric: string) => { zh: string; en: string };
}

const fmt = (v: number) => String(+v.toFixed(2));

function worse(direction: string, z: number, limit: number): boolean {
  if (direction === 'lower') return z >= limit;
  if (direction === 'higher') return z <= -limit;
  return Math.abs(z) >= limit;
}

const compare = (op: string, a: number, b: number) =>
  op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;

export function detectAnomalies(input: DetectInput): Anomaly[] {
  const s = { ...ANOMALY_DEFAULTS, ...input.settings };
  const metrics = (s.metrics ?? input.defaultMetrics)
    .map((m) => resolveMetric(m))
    .filter((m) => m !== undefined);
  const past = input.history.slice(0, s.baselinePeriods).map((rows) => new Map(rows.map((r) => [r.key, r])));
  const judged = input.current.filter((r) => r.volume >= s.minVolume);
  const out: Anomaly[] = [];
  for (const row of judged) {
    for (const def of metrics) {
      const value = row.metrics[def.id];
      if (value === null || value === undefined) continue;
      const own = past
        .map((p) => p.get(row.key))
        .filter((r) => r && r.volume >= s.minVolume)
        .map((r) => r!.metrics[def.id])
        .filter((v): v is number => typeof v === 'number');
      const team = judged
        .filter((r) => r !== row)
        .map((r) => r.metrics[def.id])
        .filter((v): v is number => typeof v === 'number');
      const ownZ = robustZ(value, own);
      const teamZ = robustZ(value, team);
      const ownHit = ownZ && worse(def.direction, ownZ.z, s.z);
      const teamHit = teamZ && worse(def.direction, teamZ.z, s.teamZ);
      if (!ownHit && !teamHit) continue;
      const zh: string[] = [];
      const en: string[] = [];
      if (ownHit) {
        zh.push(
          `${def.zh} ${fmt(value)} 偏离本人近 ${own.length} 期中位数 ${fmt(ownZ.median)}(稳健 z = ${fmt(ownZ.z)})`,
        );
        en.push(
          `${def.en} ${fmt(value)} left the own median of the last ${own.length} periods, ${fmt(ownZ.median)} (robust z = ${fmt(ownZ.z)})`,
        );
      }
      if (teamHit) {
        zh.push(`偏离团队中位数 ${fmt(teamZ.median)}(稳健 z = ${fmt(teamZ.z)})`);
        en.push(`left the team median ${fmt(teamZ.median)} (robust z = ${fmt(teamZ.z)})`);
      }
      const basis = ownHit ? ownZ : teamZ!;
      out.push({
        key: row.key,
        name: row.name,
        metric: def.id,
        value,
        baseline: basis.median,
        z: +basis.z.toFixed(4),
        reason: { zh: zh.join(';'), en: en.join('; ') },
        context: input.context(row, def.id),
      });
    }
  }
  for (const rule of s.rules ?? []) {
    const def = metricById(rule.metric) ?? resolveMetric(rule.metric);
    if (!def) continue;
    for (const row of input.current) {
      const value = row.metrics[def.id];
      if (typeof value !== 'number' || !compare(rule.op, value, rule.value)) continue;
      const earlier = past.slice(0, rule.periods - 1).map((p) => p.get(row.key)?.metrics[def.id]);
      if (earlier.length < rule.periods - 1) continue;
      if (!earlier.every((v) => typeof v === 'number' && compare(rule.op, v, rule.value))) continue;
      const span = input.labels.slice(0, rule.periods).reverse().join('、');
      const values = [value, ...(earlier as number[])].reverse().map(fmt).join('、');
      out.push({
        key: row.key,
        name: row.name,
        metric: def.id,
        value,
        baseline: rule.value,
        reason: {
          zh: `${def.zh} 连续 ${rule.periods} 期 ${rule.op} ${fmt(rule.value)}(${span}:${values})`,
          en: `${def.en} ${rule.op} ${fmt(rule.value)} for ${rule.periods} consecutive periods (${span}: ${values})`,
        },
        context: input.context(row, def.id),
      });
    }
  }
  return out;
}
