/**
 * Chart option builders on small hand-made reports: every value checked against the arithmetic written
 * beside it, nulls kept as gaps (in the option and in the rendered SVG), and properties over random
 * reports that no empty value ever turns into a 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metricById } from '../../metrics/catalog.ts';
import type { Report, ReportRow } from '../../metrics/report.ts';
import { DEFAULT_SETTINGS } from '../../model/settings.ts';
import type { ReportBundle } from '../types.ts';
import {
  barMetric,
  channelShareOption,
  frtTrendOption,
  periodDays,
  rateBarOption,
  toPercent,
} from './options.ts';
import { renderSvg } from './svg.ts';

function report(
  by: string[],
  ids: string[],
  rows: ReportRow[],
  total: Record<string, number | null> = {},
): Report {
  const definitions: Report['definitions'] = {};
  for (const id of ids) {
    const d = metricById(id)!;
    definitions[id] = { zh: d.zh, en: d.en, unit: d.unit, direction: d.direction, definition: d.definition };
  }
  return {
    period: { from: null, to: null },
    timezone: 'Asia/Shanghai',
    businessHours: false,
    by: by as Report['by'],
    filters: {},
    definitions,
    rows,
    total: { key: {}, metrics: total },
  };
}

const day = (d: string, metrics: Record<string, number | null>): ReportRow => ({ key: { day: d }, metrics });
const agent = (name: string, metrics: Record<string, number | null>): ReportRow => ({
  key: { agent: name, agent_id: name, group: '一组' },
  metrics,
});
const template = { by: 'agent' } as ReportBundle['template'];
const settings = DEFAULT_SETTINGS;
type Series = {
  data: unknown[];
  name?: string;
  markLine?: { data: unknown[]; label: { formatter: string } };
};
const seriesOf = (o: { series?: unknown }) => o.series as Series[];

describe('first-response trend', () => {
  const period = { from: '2025-11-01', to: '2025-11-05', label: 'w' };
  const byDay = report(
    ['day'],
    ['frt_avg_s', 'frt_p90_s'],
    [
      day('2025-11-01', { frt_avg_s: 30, frt_p90_s: 50 }),
      // Conversations that day but no human reply: nothing to measure.
      day('2025-11-02', { frt_avg_s: null, frt_p90_s: null }),
      // 11-03 has no row at all: no conversations.
      day('2025-11-04', { frt_avg_s: 90, frt_p90_s: 120 }),
    ],
  );

  it('has one point per day of the period, empty days and empty values as gaps', () => {
    const o = frtTrendOption({ byDay, period, settings });
    expect((o.xAxis as { data: string[] }).data).toEqual(['11-01', '11-02', '11-03', '11-04', '11-05']);
    const [avg, p90] = seriesOf(o);
    expect(avg!.data).toEqual([30, null, null, 90, null]);
    expect(p90!.data).toEqual([50, null, null, 120, null]);
    expect(seriesOf(o).every((s) => (s as { connectNulls?: boolean }).connectNulls === false)).toBe(true);
  });

  it('reads durations as 分:秒 and marks the first-response threshold', () => {
    const o = frtTrendOption({ byDay, period, settings });
    const fmt = (o.yAxis as { axisLabel: { formatter: (v: number) => string } }).axisLabel.formatter;
    expect([fmt(0), fmt(45), fmt(90), fmt(3725)]).toEqual(['0:00', '0:45', '1:30', '1:02:05']);
    const avg = seriesOf(o)[0]!;
    expect(avg.markLine!.data).toEqual([{ yAxis: 45 }]); // thresholds.firstResponse default
    expect(avg.markLine!.label.formatter).toBe('标准 0:45');
    const tip = (o.tooltip as { valueFormatter: (v: unknown) => string }).valueFormatter;
    expect([tip(75), tip(null)]).toEqual(['1:15', '—']);
  });

  it('leaves out a series the bundle lacks or the viewer may not see', () => {
    const avgOnly = report(['day'], ['frt_avg_s'], [day('2025-11-01', { frt_avg_s: 30 })]);
    expect(seriesOf(frtTrendOption({ byDay: avgOnly, period, settings })).map((s) => s.name)).toEqual([
      '平均首响 Avg',
    ]);
    const o = frtTrendOption({ byDay, period, settings, viewer: { hidden: ['frt_avg_s', 'frt_p90_s'] } });
    expect(seriesOf(o)).toEqual([]);
    expect(JSON.stringify(o.graphic)).toContain('模板未包含首次响应时长');
  });

  it('says 暂无数据 when every value is empty, and refuses a report not grouped by day', () => {
    const empty = report(['day'], ['frt_avg_s'], []);
    expect(JSON.stringify(frtTrendOption({ byDay: empty, period, settings }).graphic)).toContain('暂无数据');
    expect(() => frtTrendOption({ byDay: report(['agent'], [], []), period, settings })).toThrow(
      /grouped by day/,
    );
    expect(() => periodDays('2025-11-05', '2025-11-01')).toThrow(/after/);
    expect(periodDays('2024-02-28', '2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
  });

  it('draws an empty day as a break in the line of the rendered SVG', () => {
    const svg = renderSvg(frtTrendOption({ byDay, period, settings }), { width: 500, height: 220 });
    expect(svg).toMatch(/^<svg width="500" height="220"/);
    expect(svg).toContain('首次响应趋势');
    // The average line: a point at 11-01, then a fresh start at 11-04 — two moves, no line drawn across.
    const lines = [...svg.matchAll(/<path d="(M[^"]*)" fill="none"[^>]*stroke-width="2"/g)].map((m) => m[1]!);
    expect(lines.length).toBe(2);
    for (const d of lines) {
      expect(d.match(/M/g)?.length).toBe(2);
      expect(d).not.toMatch(/L/);
    }
  });
});

describe('rate by agent', () => {
  const current = report(
    ['agent'],
    ['received', 'resolution_rate', 'conversion_rate'],
    [
      agent('张三', { resolution_rate: 2 / 3, conversion_rate: 0.1 }),
      agent('李四', { resolution_rate: null, conversion_rate: null }),
      agent('王五', { resolution_rate: 0.9, conversion_rate: 0 }),
      agent('赵六', { resolution_rate: 0, conversion_rate: 0.25 }),
    ],
    { resolution_rate: 0.6, conversion_rate: 0.1 },
  );

  it('shows the resolution rate as %, best first; 0% is a bar, an empty value is none', () => {
    const o = rateBarOption({ current, template });
    expect((o.yAxis as { data: string[] }).data).toEqual(['王五', '张三', '赵六', '李四']);
    // 2/3 → 66.666…% → 66.7 (one decimal); 0 stays 0; null stays null.
    expect(seriesOf(o)[0]!.data).toEqual([90, 66.7, 0, null]);
    expect(seriesOf(o)[0]!.markLine!.data).toEqual([{ xAxis: 60 }]);
    expect(seriesOf(o)[0]!.markLine!.label.formatter).toBe('整体 60.0%');
    const label = (seriesOf(o)[0] as unknown as { label: { formatter: (p: { value: unknown }) => string } })
      .label;
    expect([label.formatter({ value: 66.7 }), label.formatter({ value: null })]).toEqual(['66.7%', '无数据']);
    expect((o.title as { text: string }).text).toBe('解决率 · 按客服');
  });

  it('picks resolution, else conversion, else any rate the viewer may see', () => {
    expect(barMetric(current)).toBe('resolution_rate');
    expect(barMetric(current, ['resolution_rate'])).toBe('conversion_rate');
    expect(barMetric(report(['agent'], ['received', 'missed_rate'], []))).toBe('missed_rate');
    expect(barMetric(report(['agent'], ['received'], []))).toBeNull();
    const o = rateBarOption({
      current: report(['agent'], ['received'], [agent('张三', { received: 3 })]),
      template,
    });
    expect(JSON.stringify(o.graphic)).toContain('模板未包含解决率或转化率');
    expect(() => rateBarOption({ current, template }, { metric: 'received' })).toThrow(/expected a rate/);
  });

  it('shows the best and worst halves of a long list and says how many were left out', () => {
    const rows = Array.from({ length: 10 }, (_, i) => agent(`客服${i}`, { resolution_rate: (i + 1) / 10 }));
    rows.push(agent('无评价', { resolution_rate: null }));
    const o = rateBarOption(
      { current: report(['agent'], ['resolution_rate'], rows), template },
      { maxRows: 5 },
    );
    // 5 slots: 2 best, a gap, 2 worst.
    expect((o.yAxis as { data: string[] }).data).toEqual(['客服9', '客服8', '…', '客服1', '客服0']);
    expect(seriesOf(o)[0]!.data).toEqual([100, 90, { value: null, label: { show: false } }, 20, 10]);
    expect((o.title as { subtext: string }).subtext).toContain('共 11 行,显示最高 2 与最低 2,1 行无数据');
  });
});

describe('channel share', () => {
  const ch = (channel: string | null, conversations: number | null, received = 0): ReportRow => ({
    key: { channel },
    metrics: { conversations, received },
  });

  it('gives each channel with conversations a slice, by its Chinese name, largest first', () => {
    const byChannel = report(
      ['channel'],
      ['conversations', 'received'],
      [ch('web', 10), ch('wecom_kf', 30), ch('email', 0), ch('acme_im', 5), ch('feishu', null)],
    );
    const pie = seriesOf(channelShareOption({ byChannel }))[0]!;
    expect(pie.data).toEqual([
      { name: '企业微信客服', value: 30 },
      { name: '网页', value: 10 },
      { name: 'acme_im', value: 5 },
    ]);
    expect(pie.name).toBe('会话数');
  });

  it('uses 接待会话数 when the bundle has no conversations, and folds small channels into 其他', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const byChannel = report(
      ['channel'],
      ['received'],
      ids.map((c, i) => ch(c, null, 90 - i * 10)),
    );
    const o = channelShareOption({ byChannel });
    const data = seriesOf(o)[0]!.data as { name: string; value: number }[];
    // 9 channels → 6 kept, the last 3 (30 + 20 + 10) as 其他.
    expect(data.map((d) => d.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', '其他 Other']);
    expect(data.at(-1)!.value).toBe(60);
    expect((o.title as { text: string }).text).toBe('渠道占比(接待会话数)');
    const hidden = channelShareOption({ byChannel, viewer: { hidden: ['received'] } });
    expect(seriesOf(hidden)[0]!.data).toEqual([]);
    expect(JSON.stringify(hidden.graphic)).toContain('模板未包含会话数');
  });
});

describe('SVG for PDFs', () => {
  it('leaves no text outline that svg-to-pdfkit would paint over the glyphs', () => {
    const option = {
      xAxis: { type: 'category' as const, data: ['a', 'b'] },
      yAxis: { type: 'value' as const },
      // Labels inside bars get an outline in the bar's colour by default.
      series: [{ type: 'bar' as const, data: [3, 5], label: { show: true, position: 'inside' as const } }],
    };
    const svg = renderSvg(option, { width: 300, height: 200 });
    const texts = svg.match(/<text\b[^>]*>/g) ?? [];
    expect(texts.length).toBeGreaterThan(4);
    for (const t of texts) expect(t).not.toMatch(/stroke|paint-order/);
    expect(() => renderSvg(option, { width: 0, height: 10 })).toThrow(/positive/);
  });
});

describe('properties', () => {
  const value = fc.option(fc.double({ min: 0, max: 100_000, noNaN: true }), { nil: null });

  it('a trend keeps every value and every gap of every day', () => {
    fc.assert(
      fc.property(fc.array(fc.option(value, { nil: undefined }), { minLength: 1, maxLength: 31 }), (days) => {
        const keys = periodDays('2025-12-01', '2025-12-31').slice(0, days.length);
        // undefined: no row for that day at all.
        const rows = days.flatMap((v, i) => (v === undefined ? [] : [day(keys[i]!, { frt_avg_s: v })]));
        const o = frtTrendOption({
          byDay: report(['day'], ['frt_avg_s'], rows),
          period: { from: keys[0]!, to: keys.at(-1)!, label: '' },
          settings,
        });
        expect(seriesOf(o)[0]!.data).toEqual(days.map((v) => v ?? null));
      }),
    );
  });

  it('a bar is the rate ×100 to one decimal, and an empty rate is never a 0 bar', () => {
    const rate = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null });
    fc.assert(
      fc.property(fc.array(rate, { minLength: 1, maxLength: 30 }), (rates) => {
        const rows = rates.map((r, i) => agent(`a${i}`, { resolution_rate: r }));
        const o = rateBarOption({ current: report(['agent'], ['resolution_rate'], rows), template });
        const data = seriesOf(o)[0]!.data as (number | null)[];
        const names = (o.yAxis as { data: string[] }).data;
        expect(data.filter((v) => v === null).length).toBe(rates.filter((r) => r === null).length);
        names.forEach((n, k) => {
          const r = rates[Number(n.slice(1))]!;
          expect(data[k]).toBe(r === null ? null : toPercent(r));
          if (r !== null) expect(Math.abs(data[k]! - r * 100)).toBeLessThanOrEqual(0.05 + 1e-9);
        });
        // Best first, empty last.
        const valued = data.filter((v): v is number => v !== null);
        expect(valued).toEqual([...valued].sort((a, b) => b - a));
        expect(data.slice(valued.length).every((v) => v === null)).toBe(true);
      }),
    );
  });
});
