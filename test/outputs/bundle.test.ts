/**
 * buildBundle on seven known weeks (test/outputs/weeks.ts), on SQLite and PostgreSQL: the 环比
 * period, computed fields, the viewer's scope and hidden score applied before any renderer sees
 * the rows, and 异常提醒 with its context.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../src/outputs/bundle.ts';
import { parsePeriod } from '../../src/outputs/period.ts';
import { BUILTIN_TEMPLATES, parseTemplate } from '../../src/outputs/templates.ts';
import type { ReportTemplate } from '../../src/outputs/types.ts';
import { DEFAULT_VIEWER, parseViewer } from '../../src/outputs/viewer.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS, freshStore } from '../support/stores.ts';
import { loadWeeks } from './weeks.ts';

const W45 = parsePeriod('2025-W45', 'Asia/Shanghai');
const NOW = Date.parse('2025-11-10T00:00:00Z');

const weekly: ReportTemplate = parseTemplate({
  name: '测试部_周报_v1',
  title: { zh: '周报', en: 'Weekly' },
  metrics: ['received', '首次响应时长', 'resolution_rate'],
  computed: [
    { name: '首响分钟', formula: 'frt_avg_s / 60' },
    { name: '慢', formula: 'IF(首响分钟 > 1, 1, 0)' },
  ],
  score: {
    name: '速度分',
    components: [{ metric: 'frt_avg_s', weight: 100, normalise: { kind: 'linear', best: 0, worst: 300 } }],
  },
  sheets: ['summary', 'comparison', 'anomalies'],
  anomalies: { rules: [{ metric: 'frt_avg_s', op: '>', value: 44, periods: 2 }] },
});

describe.each(DIALECTS)('buildBundle (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await loadWeeks(store);
  });
  afterAll(async () => store?.close());

  it('reports the period and the one before, with computed fields and the score', async () => {
    const b = await buildBundle(store, { template: weekly, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    expect(b.previousPeriod).toEqual({ from: '2025-10-27', to: '2025-11-02', label: '2025-W44' });
    expect(b.generatedAt).toBe(NOW);
    expect(b.current.rows.map((r) => [r.key.agent, r.metrics.received, r.metrics.frt_avg_s])).toEqual([
      ['李四', 6, 40],
      ['王五', 6, 45],
      ['张三', 9, 200],
    ]);
    // Only the template's columns and the score: the volume and concurrency read for anomalies are not rows' columns.
    expect(Object.keys(b.current.rows[0]!.metrics)).toEqual([
      'received',
      'frt_avg_s',
      'resolution_rate',
      'score',
    ]);
    // Score: linear, 0 s → 100, 300 s → 0: 张三 (300 − 200) / 3 = 33.33.
    expect(b.current.rows[2]!.metrics.score).toBeCloseTo(100 / 3, 4);
    expect(b.previous.rows.map((r) => [r.key.agent, r.metrics.frt_avg_s])).toEqual([
      ['李四', 40],
      ['王五', 45],
      ['张三', 30],
    ]);
    expect(b.computed.rows).toEqual([
      { 首响分钟: 0.666667, 慢: 0 },
      { 首响分钟: 0.75, 慢: 0 },
      { 首响分钟: 3.333333, 慢: 1 },
    ]);
    // Total: (6·40 + 6·45 + 9·200) / 21 = 2310 / 21 = 110 s → 1.833333 min.
    expect(b.current.total.metrics.frt_avg_s).toBe(110);
    expect(b.computed.total).toEqual({ 首响分钟: 1.833333, 慢: 1 });
    // The previous week's computed fields, for 环比: 李四 40 s, 王五 45 s, 张三 30 s.
    expect(b.computed.previous.rows).toEqual([
      { 首响分钟: 0.666667, 慢: 0 },
      { 首响分钟: 0.75, 慢: 0 },
      { 首响分钟: 0.5, 慢: 0 },
    ]);
    expect(b.byDay.rows.map((r) => r.key.day)).toEqual([
      '2025-11-03',
      '2025-11-04',
      '2025-11-05',
      '2025-11-06',
      '2025-11-07',
      '2025-11-08',
    ]);
    expect(b.byDay.rows[2]!.metrics.received).toBe(6);
    expect(b.byChannel.rows.map((r) => [r.key.channel, r.metrics.received])).toEqual([
      ['web', 9],
      ['wecom_kf', 12],
    ]);
  });

  it('finds 张三 slowing down against his own weeks, with the window, volume, peak and channels', async () => {
    const b = await buildBundle(store, { template: weekly, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    const own = b.anomalies.filter((a) => a.z !== undefined);
    expect(own.map((a) => [a.name, a.metric])).toEqual([['张三', 'frt_avg_s']]);
    // W39–W44: 30, 29, 31, 28, 32, 30 → median 30, MAD 1 (floored to 1.5): (200 − 30) / 1.5.
    expect(own[0]).toMatchObject({ value: 200, baseline: 30, z: 113.3333 });
    expect(own[0]!.context.zh).toBe(
      '时段 2025-11-03–2025-11-09;接待 9 个会话;2025-11-05 14:50–15:40 同时处理 3 个会话(最高并发);渠道 wecom_kf 67%、web 33%;首次响应时长最差的渠道 web:200',
    );
    // The rule frt_avg_s > 44 for 2 weeks: 王五 (45, 45) and 张三 (30 then 200: no); 李四 never.
    const rules = b.anomalies.filter((a) => a.z === undefined);
    expect(rules.map((a) => a.name)).toEqual(['王五']);
    expect(rules[0]!.reason.zh).toBe('首次响应时长 连续 2 期 > 44(2025-W44、2025-W45:45、45)');
  });

  it('gives an agent their own row only, without the score, and only their anomalies', async () => {
    const zhang = await parseViewer(store, 'agent:张三');
    const b = await buildBundle(store, { template: weekly, period: W45, viewer: zhang, now: NOW });
    expect(b.current.rows.map((r) => r.key.agent)).toEqual(['张三']);
    expect(b.previous.rows.map((r) => r.key.agent)).toEqual(['张三']);
    expect(b.current.total.metrics.received).toBe(9);
    expect(b.byChannel.total.metrics.received).toBe(9);
    expect(b.template.score).toBeUndefined();
    expect(b.viewer.hidden).toContain('score');
    for (const r of [...b.current.rows, b.current.total, ...b.previous.rows])
      expect(r.metrics).not.toHaveProperty('score');
    expect(b.current.definitions).not.toHaveProperty('score');
    expect(b.anomalies.map((a) => a.name)).toEqual(['张三']);

    const li = await parseViewer(store, 'group:售前组');
    const g = await buildBundle(store, { template: weekly, period: W45, viewer: li, now: NOW });
    expect(g.current.rows.map((r) => r.key.agent)).toEqual(['李四']);
    expect(g.current.rows[0]!.metrics.score).toBeCloseTo((260 / 300) * 100, 4);
    expect(g.anomalies).toEqual([]);
  });

  it('narrows the template filters by the scope, never widens them', async () => {
    const onlyLi = { ...weekly, filters: { agent: ['李四'] } };
    const zhang = await parseViewer(store, 'agent:张三');
    const b = await buildBundle(store, { template: onlyLi, period: W45, viewer: zhang, now: NOW });
    expect(b.current.rows).toEqual([]);
    expect(b.current.total.metrics.received).toBe(0);
  });

  it('hides the score in the agent self-view template for every viewer, and the HR review computes 有效工作率', async () => {
    const self = BUILTIN_TEMPLATES.find((t) => t.name === '客服个人视图')!;
    const b = await buildBundle(store, {
      template: self,
      period: W45,
      viewer: await parseViewer(store, 'hr'),
      now: NOW,
    });
    expect(b.template.score).toBeUndefined();
    expect(b.current.rows[0]!.metrics).not.toHaveProperty('score');
    expect(b.viewer.canSeePii).toBe(true);
    const hr = BUILTIN_TEMPLATES.find((t) => t.name === 'HR月度考核')!;
    const m = await buildBundle(store, {
      template: hr,
      period: parsePeriod('2025-11', 'Asia/Shanghai'),
      viewer: DEFAULT_VIEWER,
      now: NOW,
    });
    expect(m.previousPeriod.label).toBe('2025-10');
    // Every received conversation was answered: valid = received → 100.
    expect(m.computed.rows.map((r) => r.有效工作率)).toEqual([100, 100, 100]);
    expect(m.current.rows[0]!.metrics).toHaveProperty('score');
  });

  it('groups rows by group, with anomalies keyed by group and a group viewer seeing only theirs', async () => {
    const byGroup = parseTemplate({
      ...weekly,
      name: '测试部_组周报_v1',
      by: 'group',
      computed: [],
      score: undefined,
      anomalies: { minVolume: 1, z: 3, rules: [{ metric: 'frt_avg_s', op: '>', value: 100, periods: 1 }] },
    });
    const b = await buildBundle(store, { template: byGroup, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    // 售后组: 张三 (9 conversations at 200 s) and 王五 (6 at 45 s): (1800 + 270) / 15 = 138 s.
    expect(b.current.rows.map((r) => [r.key.group, r.metrics.received, r.metrics.frt_avg_s])).toEqual([
      // In pinyin order: shòuhòu before shòuqián.
      ['售后组', 15, 138],
      ['售前组', 6, 40],
    ]);
    const rule = b.anomalies.find((a) => a.z === undefined)!;
    expect(rule).toMatchObject({
      key: '售后组',
      name: '售后组',
      metric: 'frt_avg_s',
      value: 138,
      baseline: 100,
    });
    // No concurrency peak for a group; the channels are there.
    expect(rule.context.zh).toBe(
      '时段 2025-11-03–2025-11-09;接待 15 个会话;渠道 wecom_kf 80%、web 20%;首次响应时长最差的渠道 web:200',
    );
    const g = await buildBundle(store, {
      template: byGroup,
      period: W45,
      viewer: await parseViewer(store, 'group:售前组'),
      now: NOW,
    });
    expect(g.current.rows.map((r) => r.key.group)).toEqual(['售前组']);
    expect(g.anomalies).toEqual([]);
  });

  it('rejects an unknown scope clearly', async () => {
    await expect(parseViewer(store, 'agent:赵六')).rejects.toThrow(/no agent "赵六"/);
    await expect(parseViewer(store, 'group:不存在')).rejects.toThrow(/no group named "不存在"/);
    await expect(parseViewer(store, 'boss')).rejects.toThrow(/expected: all, hr, admin, group:NAME/);
  });
});
