/** How a metric value reads to a person: durations as 分:秒, rates as %, counts as numbers. */
import type { MetricDef } from './catalog.ts';

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

export function formatValue(def: Pick<MetricDef, 'unit'>, v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  switch (def.unit) {
    case 'seconds':
      return formatDuration(v);
    case 'rate':
      return `${(v * 100).toFixed(1)}%`;
    case 'rating':
      return v.toFixed(2);
    case 'amount':
      return v.toLocaleString('zh-CN', { maximumFractionDigits: 2 });
    case 'score':
      return v.toFixed(1);
    default:
      return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }
}
