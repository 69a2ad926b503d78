/**
 * The PDF report from data imported through the real ingest on SQLite, read back with poppler
 * (Debian poppler-utils: pdftotext, pdffonts, pdfinfo): the Chinese text is there as text (so the CJK
 * font is embedded and nothing is tofu), the hand-computed numbers and 环比 are printed, the pages are
 * numbered, long tables continue with their header, hidden columns never appear.
 *
 * The numbers are those of test/engine/scenario.ts (arithmetic in test/engine/metrics.test.ts), plus
 * one conversation in the week before for 环比.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import type { CanonicalEventInput } from '../../src/model/events.ts';
import { buildBundle } from '../../src/outputs/bundle.ts';
import { PdfFontError } from '../../src/outputs/pdf/fonts.ts';
import { summaryTable, writePdf } from '../../src/outputs/pdf/report.ts';
import { parseTemplate } from '../../src/outputs/templates.ts';
import type { ReportBundle, Viewer } from '../../src/outputs/types.ts';
import { DEFAULT_VIEWER } from '../../src/outputs/viewer.ts';
import type { Store } from '../../src/store/db.ts';
import { at, scenario } from '../engine/scenario.ts';
import { freshStore } from '../support/stores.ts';

const W45 = { from: '2025-11-03', to: '2025-11-09', label: '2025-W45' };
/** 2025-11-10 08:30 in Shanghai. */
const NOW = Date.parse('2025-11-10T00:30:00Z');

function poppler(tool: string, args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`${tool} is missing: apt-get install poppler-utils (.ci/run installs it)`);
    throw e;
  }
}
const pageText = (file: string, page?: number) =>
  poppler('pdftotext', ['-layout', ...(page ? ['-f', String(page), '-l', String(page)] : []), file, '-']);
/** pdftotext drops the narrow spaces around digits in CJK text: 第 1 / 3 页 comes out as 第1/3页. */
const pageLabel = (i: number, n: number) => new RegExp(`第\\s*${i}\\s*/\\s*${n}\\s*页`);
const pageCount = (file: string) => Number(/Pages:\s+(\d+)/.exec(poppler('pdfinfo', [file]))![1]);

const template = parseTemplate({
  name: '电商客服部_周报_v1',
  title: { zh: '电商客服部周报', en: 'E-commerce CS weekly' },
  by: 'agent',
  metrics: [
    'conversations',
    'received',
    'frt_avg_s',
    'frt_p90_s',
    'resolution_rate',
    'csat_avg',
    'conversion_rate',
  ],
  computed: [{ name: '首响分钟', formula: 'frt_avg_s / 60' }],
  score: {
    name: '速度分',
    components: [{ metric: 'frt_avg_s', weight: 100, normalise: { kind: 'linear', best: 0, worst: 300 } }],
  },
  conditionalFormats: [{ metric: 'resolution_rate', kind: 'threshold', op: '<', value: 0.8, fill: 'FFC7CE' }],
  sheets: ['summary', 'anomalies'],
});

/** The week before W45: one web conversation of 张三, answered in 100 s, closed, rated 5, no order. */
function weekBefore(): CanonicalEventInput[] {
  const base = { source: 'pdf-test', channel: 'web', conversationId: 'P1', customer: { id: 'c9' } };
  return [
    { ...base, kind: 'message', id: 'p1', ts: at('2025-10-29 10:00:00'), role: 'customer', text: '发货了吗' },
    { ...base, kind: 'assignment', id: 'p2', ts: at('2025-10-29 10:00:00'), account: 'zhang' },
    {
      ...base,
      kind: 'message',
      id: 'p3',
      ts: at('2025-10-29 10:01:40'),
      role: 'agent',
      account: 'zhang',
      text: '已发货',
    },
    { ...base, kind: 'close', id: 'p4', ts: at('2025-10-29 10:05:00') },
    { ...base, kind: 'rating', id: 'p5', ts: at('2025-10-29 10:06:00'), score: 5 },
  ];
}

async function load(store: Store, events: CanonicalEventInput[], roster: Parameters<typeof importRoster>[1]) {
  await importRoster(store, roster);
  const r = await accept(
    store,
    events.map((raw, i) => ({ line: i + 1, raw })),
    'pdf-test',
  );
  expect(r.rejects).toEqual([]);
  await refreshFacts(store);
}

describe('the PDF report (sqlite)', () => {
  let store: Store;
  let dir: string;
  let bundle: ReportBundle;
  let file: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-pdf-'));
    store = await freshStore('sqlite');
    await load(
      store,
      [...scenario(), ...weekBefore()],
      [
        { name: '张三', employeeNo: 'KF001', group: '售后组', accounts: [{ account: 'zhang' }] },
        { name: '李四', employeeNo: 'KF002', group: '售前组', accounts: [{ account: 'li' }] },
      ],
    );
    bundle = await buildBundle(store, { template, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    const r = await writePdf(bundle, { outDir: dir, baseName: '客服绩效_2025-W45' });
    file = join(dir, '客服绩效_2025-W45.pdf');
    expect(r).toEqual({ files: [file], detailRows: 0 });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('embeds the CJK font, so the Chinese title, period and viewer are text', () => {
    const fonts = poppler('pdffonts', [file]);
    // name, type, encoding, then emb sub uni: embedded, subset, with a Unicode map (extractable text).
    expect(fonts).toMatch(/\+NotoSansCJKsc-Regular\s+CID Type 0C\s+Identity-H\s+yes\s+yes\s+yes/);
    expect(fonts).not.toMatch(/Helvetica|Times|Courier/);
    const p1 = pageText(file, 1);
    expect(p1).toContain('电商客服部周报');
    expect(p1).toContain('2025-11-03 至 2025-11-09(2025-W45)');
    expect(p1).toContain('范围:全部(脱敏)');
    expect(p1).toContain('环比对比期 2025-10-27 至 2025-11-02');
  });

  it('prints the headline figures with 环比 against the week before', () => {
    const p1 = pageText(file, 1);
    const line = (re: RegExp) => p1.split('\n').find((l) => re.test(l)) ?? '';
    // 4 conversations; first response (30 + 60 + 120) / 3 = 70 s; resolved 2 of 3 answered; CSAT
    // (5 + 2 + 5) / 3 = 4; conversion 1 of 3. Cards read left to right on one line.
    expect(line(/会话数\s+首次响应/)).toMatch(/会话数\s+首次响应时长\s+解决率\s+平均满意度\s+转化率/);
    expect(line(/^\s*4\s/)).toMatch(/^\s*4\s+1:10\s+66\.7%\s+4\.00\s+33\.3%\s*$/);
    // Week before: 1 conversation, 100 s, 100%, 5, 0%. Counts and times relative, rates in points.
    expect(line(/环比 [↑↓]/)).toMatch(
      /环比 ↑300\.0%\s+环比 ↓30\.0%\s+环比 ↓33\.3 个百分点\s+环比 ↓1\.00\s+环比 ↑33\.3 个百分点/,
    );
  });

  it('has one summary row per agent with the template columns, computed field and score', () => {
    const text = pageText(file);
    // Table rows: the name, then the group (— for the unassigned row); the bar chart's axis labels are not.
    const rows = (name: string) =>
      text.split('\n').filter((l) => new RegExp(`^\\s*${name}\\s+(售后组|售前组|—)\\s`).test(l));
    // Nine value columns do not fit A4 at a legible size: two column groups (5 + 4), each row twice.
    expect(text).toMatch(/客服\s+客服组\s+会话数\s+接待会话数\s+首次响应时长\s+首次响应时长 P90\s+解决率\n/);
    expect(text).toMatch(/客服\s+客服组\s+平均满意度\s+转化率\s+首响分钟\s+绩效得分\(速度分\)\n/);
    // 张三: 3 conversations, 3 received, first response (30 + 60) / 2 = 45 s, p90 30 + .9·30 = 57 s,
    // 2/3 resolved, CSAT (5 + 2 + 5) / 3 = 4, conversion 1/3; 首响分钟 45/60 = 0.75; 速度分 (300 − 45) / 3 = 85.
    expect(rows('张三')).toEqual([
      expect.stringMatching(/张三\s+售后组\s+3\s+3\s+0:45\s+0:57\s+66\.7%\s*$/),
      expect.stringMatching(/张三\s+售后组\s+4\.00\s+33\.3%\s+0\.75\s+85\.0\s*$/),
    ]);
    // 李四: B (greeting only) is not a conversation; C's first response 120 s; C's rating 2 went to
    // 张三, its last handler, so 李四 has nothing resolved or rated: —, never 0. 120/60 = 2; (300 − 120) / 3 = 60.
    expect(rows('李四')).toEqual([
      expect.stringMatching(/李四\s+售前组\s+0\s+1\s+2:00\s+2:00\s+—\s*$/),
      expect.stringMatching(/李四\s+售前组\s+—\s+—\s+2\s+60\.0\s*$/),
    ]);
    expect(rows('未分配')[0]).toMatch(/未分配\s+—\s+1\s+0\s+—\s+—\s+—\s*$/);
    // Totals: 70 s; p90 of [30, 60, 120] = 60 + .8·60 = 108 s → 1:48.
    expect(text).toMatch(/^\s*合计\s+4\s+4\s+1:10\s+1:48\s+66\.7%\s*$/m);
    const spec = summaryTable(bundle);
    expect(spec.columns.map((c) => c.header)).toEqual([
      '客服',
      '客服组',
      '会话数',
      '接待会话数',
      '首次响应时长',
      '首次响应时长 P90',
      '解决率',
      '平均满意度',
      '转化率',
      '首响分钟',
      '绩效得分(速度分)',
    ]);
    // 解决率 < 80% is filled red as in the workbook: 张三's 66.7%; 李四's empty value is not.
    const rate = spec.columns.findIndex((c) => c.header === '解决率');
    const fills = spec.rows.map((r) => [r[0]!.text, r[rate]!.fill]);
    expect(fills).toEqual([
      ['李四', undefined],
      ['未分配', undefined],
      ['张三', '#FFC7CE'],
    ]);
  });

  it('draws the three charts, lists the anomalies section and the 口径 of the metrics shown', () => {
    const text = pageText(file);
    expect(text).toContain('首次响应趋势');
    expect(text).toContain('标准 0:45'); // the threshold line's label: the chart's text survived svg-to-pdfkit
    expect(text).toContain('解决率 · 按客服');
    expect(text).toContain('渠道会话占比');
    // The pie's labels, in reading order: web and wechat have 2 of the 4 conversations each.
    const pie = poppler('pdftotext', [file, '-']).split('渠道会话占比')[1] ?? '';
    expect(pie).toMatch(/^\s*Conversations by channel\s+wechat\s+50%\s+网页\s+50%\s+异常提醒/);
    expect(text).toContain('异常提醒');
    expect(text).toContain('附录 · 口径说明');
    expect(text).toContain('首次响应时长(frt_avg_s)');
    expect(text).toContain('首响分钟 = frt_avg_s / 60');
    expect(text).toContain('时区 Asia/Shanghai');
  });

  it('numbers every page and says when it was made, in the reporting timezone', () => {
    const n = pageCount(file);
    expect(n).toBeGreaterThanOrEqual(2);
    for (let i = 1; i <= n; i++) {
      const t = pageText(file, i);
      expect(t).toMatch(pageLabel(i, n));
      expect(t).toContain('生成于 2025-11-10 08:30(Asia/Shanghai)');
    }
  });

  it('gives an agent only their own row and no score when it is hidden from them', async () => {
    const zhang = await store.db
      .selectFrom('agents')
      .select('id')
      .where('name', '=', '张三')
      .executeTakeFirstOrThrow();
    const viewer: Viewer = {
      label: '客服:张三',
      scope: { kind: 'agent', agentId: zhang.id },
      canSeePii: false,
      hidden: ['score', 'conversion_rate'],
    };
    const own = await buildBundle(store, { template, period: W45, viewer, now: NOW });
    const r = await writePdf(own, { outDir: dir, baseName: 'own' });
    const text = pageText(r.files[0]!);
    expect(text).toContain('范围:客服:张三');
    expect(text).toMatch(/^\s*张三\s+售后组\s+3\s+3\s+0:45/m);
    expect(text).not.toContain('李四');
    expect(text).not.toContain('速度分');
    expect(text).not.toContain('绩效得分');
    expect(text).not.toContain('转化率');
  });

  it('embeds one face, the font given, and nothing else', async () => {
    const font = {
      path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
      family: 'NotoSansCJKsc-Regular',
    };
    const r = await writePdf(bundle, { outDir: dir, baseName: 'regular-only', font });
    const fonts = poppler('pdffonts', [r.files[0]!]).trim().split('\n').slice(2);
    expect(fonts).toEqual([
      expect.stringMatching(/\+NotoSansCJKsc-Regular\s+CID Type 0C\s+Identity-H\s+yes\s+yes\s+yes/),
    ]);
    expect(pageText(r.files[0]!, 1)).toContain('电商客服部周报');
  });

  it('keys rows by channel with their Chinese names when the template reports by channel', async () => {
    const t = parseTemplate({
      name: '渠道部_周报_v1',
      title: { zh: '渠道周报', en: 'Channels weekly' },
      by: 'channel',
      metrics: ['conversations', 'missed', 'resolution_rate'],
    });
    const b = await buildBundle(store, { template: t, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    expect(summaryTable(b).columns.map((c) => c.header)).toEqual(['渠道', '会话数', '漏接数', '解决率']);
    const text = pageText((await writePdf(b, { outDir: dir, baseName: 'channels' })).files[0]!);
    // web: A (closed, 5) and E (closed, 满意) both resolved → 100%. wechat (no Chinese name listed,
    // shown as it is): C closed but rated 2 → unresolved, D never answered → missed, not in the base → 0%.
    expect(text).toMatch(/^\s*网页\s+2\s+0\s+100\.0%\s*$/m);
    expect(text).toMatch(/^\s*wechat\s+2\s+1\s+0\.0%\s*$/m);
    expect(text).toContain('解决率 · 按渠道');
  });

  it('warns, naming them, about characters the font cannot draw', async () => {
    const odd = structuredClone(bundle);
    odd.current.rows[0]!.key.agent = '李四😀';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      await writePdf(odd, { outDir: dir, baseName: 'emoji' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/empty boxes: 😀 /);
      warn.mockClear();
      await writePdf(bundle, { outDir: dir, baseName: 'plain' });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses a font it cannot load and leaves no file behind', async () => {
    const font = { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'NoSuchFace' };
    await expect(writePdf(bundle, { outDir: dir, baseName: 'bad', font })).rejects.toThrow(PdfFontError);
    await expect(writePdf(bundle, { outDir: dir, baseName: 'bad', font })).rejects.toThrow(/NoSuchFace/);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad'))).toEqual([]);
  });
});

describe('a long PDF table (sqlite)', () => {
  const N = 70;
  const name = (i: number) => `客服${String(i).padStart(2, '0')}`;
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-pdf-long-'));
    store = await freshStore('sqlite');
    const events: CanonicalEventInput[] = [];
    for (let i = 1; i <= N; i++) {
      const base = { source: 'pdf-long', channel: 'web', conversationId: `L${i}`, customer: { id: `u${i}` } };
      const t = Date.parse('2025-11-05T01:00:00Z') + i * 60_000;
      events.push(
        { ...base, kind: 'message', id: `l${i}a`, ts: t, role: 'customer', text: '你好,请问发票' },
        { ...base, kind: 'assignment', id: `l${i}b`, ts: t, account: `kf${i}` },
        {
          ...base,
          kind: 'message',
          id: `l${i}c`,
          ts: t + i * 1000,
          role: 'agent',
          account: `kf${i}`,
          text: '好的',
        },
        { ...base, kind: 'close', id: `l${i}d`, ts: t + 300_000 },
      );
    }
    await load(
      store,
      events,
      Array.from({ length: N }, (_, k) => ({
        name: name(k + 1),
        employeeNo: `L${k + 1}`,
        group: k < 35 ? '一组' : '二组',
        accounts: [{ account: `kf${k + 1}` }],
      })),
    );
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues on the next page with the header repeated, and every agent listed once', async () => {
    const t = parseTemplate({
      name: '测试部_周报_v2',
      title: { zh: '长表测试', en: 'Long table' },
      metrics: ['received', 'frt_avg_s', 'resolution_rate'],
    });
    const b = await buildBundle(store, { template: t, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    expect(b.current.rows.length).toBe(N);
    const file = (await writePdf(b, { outDir: dir, baseName: 'long' })).files[0]!;
    const [p1, p2] = [pageText(file, 1), pageText(file, 2)];
    for (const p of [p1, p2]) expect(p).toMatch(/客服\s+客服组\s+接待会话数\s+首次响应时长\s+解决率/);
    const rowsOn = (p: string) => p.split('\n').filter((l) => /^\s*客服\d\d\s+[一二]组/.test(l));
    expect(rowsOn(p1).length).toBeGreaterThan(20);
    expect(rowsOn(p1).length + rowsOn(p2).length).toBe(N);
    // 客服07 answered in 7 s; the 合计 row closes the table on page 2: (1 + … + 70) / 70 = 35.5 s → 0:36.
    expect(
      rowsOn(p1)
        .concat(rowsOn(p2))
        .find((l) => l.includes('客服07')),
    ).toMatch(/客服07\s+一组\s+1\s+0:07\s+—/);
    expect(p2).toMatch(/合计\s+70\s+0:36/);
    const n = pageCount(file);
    expect(pageText(file, n)).toMatch(pageLabel(n, n));
  });

  it('splits a table too wide for A4 into column groups that each repeat the agent columns', async () => {
    const t = parseTemplate({
      name: '测试部_周报_v3',
      title: { zh: '宽表测试', en: 'Wide table' },
      metrics: [
        'conversations',
        'received',
        'valid',
        'invalid',
        'effective_rate',
        'missed',
        'missed_rate',
        'messages_in',
        'messages_out',
        'transfer_rate',
        'frt_avg_s',
        'frt_median_s',
        'frt_p90_s',
        'art_avg_s',
      ],
    });
    const b = await buildBundle(store, { template: t, period: W45, viewer: DEFAULT_VIEWER, now: NOW });
    const file = (await writePdf(b, { outDir: dir, baseName: 'wide' })).files[0]!;
    const text = pageText(file);
    expect(text).toContain('第 1 / 2 组列');
    expect(text).toContain('第 2 / 2 组列');
    // Each agent's row appears once per group, its name and group repeated.
    expect(text.split('\n').filter((l) => /^\s*客服07\s+一组\s/.test(l)).length).toBe(2);
    expect(existsSync(join(dir, 'wide.pdf.partial'))).toBe(false);
  });
});
