/**
 * Chart options built from a report bundle: plain echarts option objects, the same for the PDF (via
 * svg.ts), group-bot pushes and the web dashboard, so a chart never disagrees between them.
 *
 * Rules every builder keeps: Chinese first (English beside it in the subtitle), durations read as
 * 分:秒, rates as %, and an empty value (null: nothing to measure) stays a gap — a missing point, a
 * missing bar — never a 0 that would read as "answered instantly" or "resolved nothing".
 */
import type { BarSeriesOption, EChartsOption, LineSeriesOption, PieSeriesOption } from 'echarts';
import { metricById } from '../../metrics/catalog.ts';
import { formatDuration } from '../../metrics/format.ts';
import type { Report } from '../../metrics/report.ts';
import { nextDay } from '../../model/time.ts';
import type { ReportBundle } from '../types.ts';
import { channelLabel, ROW_KIND_LABEL, rowLabel } from './labels.ts';

const NO_DATA = '暂无数据 · No data';

/** Axis and tooltip text of a duration in seconds. */
export function durationText(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : formatDuration(v);
}

/** A rate 0–1 as a percentage with one decimal, for bar data; null stays null. */
export function toPercent(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 10;
}

/** A centred note where a chart has nothing to draw, so an empty chart never looks like zeros. */
function emptyNote(text: string): EChartsOption['graphic'] {
  return {
    type: 'text',
    left: 'center',
    top: 'middle',
    style: { text, fontSize: 14, fill: '#8a8f99' },
  };
}

/** Every local day of the period, in order, so a day without any conversation is a gap too. */
export function periodDays(from: string, to: string): string[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to))
    throw new Error(`period: expected days YYYY-MM-DD, got "${from}".."${to}"`);
  if (from > to) throw new Error(`period: from ${from} is after to ${to}`);
  const days: string[] = [];
  for (let d = from; d <= to; d = nextDay(d)) {
    days.push(d);
    if (days.length > 3660) throw new Error(`period ${from}..${to} is longer than ten years`);
  }
  return days;
}

const metricValue = (row: { metrics: Record<string, number | null> } | undefined, id: string) => {
  const v = row?.metrics[id];
  return v === undefined || v === null || !Number.isFinite(v) ? null : v;
};

/** What the charts read from bundle.byDay and bundle.byChannel (buildBundle adds them to the template's metrics). */
export const CHART_METRICS = {
  byDay: ['frt_avg_s', 'frt_p90_s'],
  byChannel: ['conversations', 'received'],
} as const;

/** A metric the report carries and the viewer may see. */
const shown = (report: Report, id: string, hidden: readonly string[] = []) =>
  id in report.definitions && !hidden.includes(id);

/**
 * First response by day: the average and the 90th percentile (what the slowest tenth of customers
 * waited), with the team's first-response threshold as a reference line. A series the bundle does not
 * carry (the template lacks it, or the viewer may not see it) is left out rather than drawn empty.
 */
export function frtTrendOption(
  b: Pick<ReportBundle, 'byDay' | 'period' | 'settings'> & {
    viewer?: Pick<ReportBundle['viewer'], 'hidden'>;
  },
): EChartsOption {
  const report = b.byDay;
  if (!report.by.includes('day'))
    throw new Error(`frtTrendOption: bundle.byDay must be grouped by day, got [${report.by.join(', ')}]`);
  const days = periodDays(b.period.from, b.period.to);
  const byDay = new Map(report.rows.map((r) => [String(r.key.day), r]));
  const lines = [
    { id: 'frt_avg_s', name: '平均首响 Avg', dashed: false },
    { id: 'frt_p90_s', name: 'P90 首响', dashed: true },
  ].filter((l) => shown(report, l.id, b.viewer?.hidden));
  const threshold = b.settings.thresholds.firstResponse;
  const series = lines.map((l, i): LineSeriesOption => {
    const line: LineSeriesOption = {
      name: l.name,
      type: 'line',
      data: days.map((d) => metricValue(byDay.get(d), l.id)),
      connectNulls: false,
      // A lone day between two gaps would be invisible without its symbol.
      showSymbol: true,
      symbolSize: 5,
      lineStyle: { width: 2, type: l.dashed ? 'dashed' : 'solid' },
    };
    if (i === 0)
      line.markLine = {
        silent: true,
        symbol: 'none',
        lineStyle: { color: '#d9534f', type: 'dotted', width: 1 },
        label: {
          formatter: `标准 ${durationText(threshold)}`,
          position: 'insideStartTop',
          color: '#d9534f',
          textBorderWidth: 0,
        },
        data: [{ yAxis: threshold }],
      };
    return line;
  });
  const note = !lines.length
    ? emptyNote('模板未包含首次响应时长 · First response not in this template')
    : series.every((x) => (x.data as (number | null)[]).every((v) => v === null))
      ? emptyNote(NO_DATA)
      : undefined;
  return {
    animation: false,
    title: {
      text: '首次响应趋势',
      subtext: 'First response by day (分:秒)',
      left: 0,
      textStyle: { fontSize: 14 },
      subtextStyle: { fontSize: 10 },
    },
    legend: { top: 4, right: 0, data: lines.map((l) => l.name) },
    grid: { left: 56, right: 16, top: 68, bottom: 32 },
    tooltip: { trigger: 'axis', valueFormatter: (v) => durationText(v as number | null) },
    xAxis: {
      type: 'category',
      data: days.map((d) => d.slice(5)),
      boundaryGap: false,
      axisLabel: { hideOverlap: true },
    },
    yAxis: {
      type: 'value',
      min: 0,
      axisLabel: { formatter: (v: number) => formatDuration(v) },
    },
    series,
    ...(note ? { graphic: note } : {}),
  };
}

/** Which rate the bar chart shows: the template's resolution rate, else its conversion rate, else its first rate. */
export function barMetric(report: Report, hidden: readonly string[] = []): string | null {
  const ids = Object.keys(report.definitions).filter((id) => !hidden.includes(id));
  for (const id of ['resolution_rate', 'conversion_rate']) if (ids.includes(id)) return id;
  return ids.find((id) => report.definitions[id]?.unit === 'rate') ?? null;
}

/**
 * A rate per summary row (agent, group or channel) as horizontal bars, best first, with the team's
 * overall value as a reference line. Rows with nothing to measure keep their place at the end with no
 * bar and the label 无数据, so an agent without rated conversations is not shown as 0%. Above
 * `maxRows` rows (a page holds about 40) the best and the worst halves are shown, and the subtitle says so.
 */
export function rateBarOption(
  b: Pick<ReportBundle, 'current' | 'template'> & { viewer?: Pick<ReportBundle['viewer'], 'hidden'> },
  o: { metric?: string | null; maxRows?: number } = {},
): EChartsOption {
  const metric = o.metric === undefined ? barMetric(b.current, b.viewer?.hidden) : o.metric;
  const by = b.template.by;
  const def = metric ? (b.current.definitions[metric] ?? metricById(metric)) : undefined;
  if (metric && !def) throw new Error(`rateBarOption: unknown metric "${metric}"`);
  if (def && def.unit !== 'rate')
    throw new Error(`rateBarOption: "${metric}" is a ${def.unit}, expected a rate (0–1)`);
  const all = b.current.rows
    .map((r) => ({ name: rowLabel(r, by), value: metric ? toPercent(metricValue(r, metric)) : null }))
    .sort((x, y) => (y.value ?? -1) - (x.value ?? -1));
  let rows: { name: string; value: number | null; gap?: boolean }[] = all;
  let cut = '';
  const max = o.maxRows ?? Number.POSITIVE_INFINITY;
  if (all.length > max && max >= 2) {
    const valued = all.filter((r) => r.value !== null);
    const top = Math.ceil((max - 1) / 2);
    const bottom = Math.min(max - 1 - top, Math.max(0, valued.length - top));
    rows = [
      ...valued.slice(0, top),
      { name: '…', value: null, gap: true },
      ...valued.slice(valued.length - bottom),
    ];
    cut = `;共 ${all.length} 行,显示最高 ${top} 与最低 ${bottom}${all.length > valued.length ? `,${all.length - valued.length} 行无数据` : ''}`;
  }
  const total = metric ? toPercent(metricValue(b.current.total, metric)) : null;
  const title = def ? `${def.zh} · 按${ROW_KIND_LABEL[by].zh}` : `按${ROW_KIND_LABEL[by].zh}`;
  const bar: BarSeriesOption = {
    type: 'bar',
    name: def?.zh ?? '',
    barMaxWidth: 14,
    data: rows.map((r) => (r.gap ? { value: null, label: { show: false } } : r.value)),
    label: {
      show: true,
      position: 'right',
      fontSize: 9,
      textBorderWidth: 0,
      formatter: (p) => {
        const v = (p as { value: unknown }).value;
        return typeof v === 'number' ? `${v.toFixed(1)}%` : '无数据';
      },
    },
    ...(total !== null
      ? {
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#666', type: 'dashed', width: 1 },
            label: {
              formatter: `整体 ${total.toFixed(1)}%`,
              position: 'start',
              fontSize: 9,
              textBorderWidth: 0,
            },
            data: [{ xAxis: total }],
          },
        }
      : {}),
  };
  const note = !metric
    ? emptyNote('模板未包含解决率或转化率 · No rate metric in this template')
    : all.every((r) => r.value === null)
      ? emptyNote(NO_DATA)
      : undefined;
  return {
    animation: false,
    title: {
      text: title,
      subtext: def ? `${def.en} by ${ROW_KIND_LABEL[by].en.toLowerCase()} (%)${cut}` : '',
      left: 0,
      textStyle: { fontSize: 14 },
      subtextStyle: { fontSize: 10 },
    },
    grid: {
      left: 8,
      right: 56,
      top: 68,
      bottom: 24,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : '无数据'),
    },
    xAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.name),
      axisLabel: { interval: 0, fontSize: 10 },
    },
    series: [bar],
    ...(note ? { graphic: note } : {}),
  };
}

/** Slices shown before the rest are folded into 其他, so a pie stays readable with many channels. */
const MAX_SLICES = 7;

/**
 * Share of conversations by channel (会话数; a template without it shows 接待会话数, and says so in
 * the title). Channels with nothing counted have no slice at all.
 */
export function channelShareOption(
  b: Pick<ReportBundle, 'byChannel'> & { viewer?: Pick<ReportBundle['viewer'], 'hidden'> },
): EChartsOption {
  const report = b.byChannel;
  if (!report.by.includes('channel'))
    throw new Error(
      `channelShareOption: bundle.byChannel must be grouped by channel, got [${report.by.join(', ')}]`,
    );
  const metric = CHART_METRICS.byChannel.find((id) => shown(report, id, b.viewer?.hidden)) ?? null;
  const def = metric ? metricById(metric) : undefined;
  const slices = report.rows
    .map((r) => ({
      name: channelLabel(r.key.channel === null ? null : String(r.key.channel)),
      value: metric ? metricValue(r, metric) : null,
    }))
    .filter((s): s is { name: string; value: number } => s.value !== null && s.value > 0)
    .sort((x, y) => y.value - x.value);
  const data =
    slices.length > MAX_SLICES
      ? [
          ...slices.slice(0, MAX_SLICES - 1),
          {
            name: '其他 Other',
            value: slices.slice(MAX_SLICES - 1).reduce((s, x) => s + x.value, 0),
          },
        ]
      : slices;
  const pie: PieSeriesOption = {
    type: 'pie',
    name: def?.zh ?? '',
    radius: ['35%', '62%'],
    center: ['50%', '58%'],
    data,
    label: { formatter: '{b}\n{d}%', fontSize: 10, textBorderWidth: 0 },
    labelLine: { length: 8, length2: 8 },
  };
  return {
    animation: false,
    title: {
      text: metric === 'received' ? '渠道占比(接待会话数)' : '渠道会话占比',
      subtext: `${def?.en ?? 'Conversations'} by channel`,
      left: 0,
      textStyle: { fontSize: 14 },
      subtextStyle: { fontSize: 10 },
    },
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    series: [pie],
    ...(data.length
      ? {}
      : { graphic: emptyNote(metric ? NO_DATA : '模板未包含会话数 · Conversations not in this template') }),
  };
}
