/**
 * The report workbook written from a hand-made month (testing.ts) imported through the real
 * ingest, on SQLite and PostgreSQL, then opened by openpyxl and by LibreOffice headless.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeScore } from '../../metrics/scores.ts';
import type { Store } from '../../store/db.ts';
import { DIALECTS, freshStore } from '../../../test/support/stores.ts';
import { findUnmasked } from '../masking.ts';
import type { ReportBundle } from '../types.ts';
import {
  bundleFor,
  loadMonth,
  MASKED_VIEWER,
  type OpenedWorkbook,
  openWithOpenpyxl,
  roundTripThroughLibreOffice,
  SCORE,
  template,
} from './testing.ts';
import { S } from './styles.ts';
import { writeWorkbook } from './workbook.ts';

const RAW_CONTACTS = ['13812345678', 'alice@example.com', '+44 7911 123456', '13912345678'];

function allText(o: OpenedWorkbook): string[] {
  return Object.values(o.parts);
}

function headerCells(o: OpenedWorkbook, sheet: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [ref, c] of Object.entries(o.sheets[sheet]!.cells))
    if (/^[A-Z]+1$/.test(ref)) out[String(c.v)] = ref.replace(/\d+$/, '');
  return out;
}

describe.each(DIALECTS)('report workbook (%s)', (dialect) => {
  let store: Store;
  let dir: string;
  let bundle: ReportBundle;
  let file: string;
  let opened: OpenedWorkbook;

  beforeAll(async () => {
    store = await freshStore(dialect);
    await loadMonth(store);
    dir = mkdtempSync(join(tmpdir(), 'cspulse-xlsx-'));
    bundle = await bundleFor(store, template());
    const r = await writeWorkbook(store, bundle, { outDir: dir, baseName: '客服绩效_2025-11' });
    expect(r).toEqual({ files: [join(dir, '客服绩效_2025-11.xlsx')], detailRows: 5 });
    file = r.files[0]!;
    opened = openWithOpenpyxl(file);
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has the sheets of the template, named in Chinese, in its order', () => {
    expect(opened.sheetnames).toEqual(['汇总', '透视表', '明细', '口径说明', '环比', '异常提醒']);
  });

  it('writes the summary with frozen header, autofilter, number formats and the report numbers', () => {
    const s = opened.sheets.汇总!;
    expect(s.freeze).toBe('C2');
    const h = headerCells(opened, '汇总');
    const rowOf = (name: string) =>
      Object.entries(s.cells)
        .find(([ref, c]) => /^A\d+$/.test(ref) && c.v === name)![0]
        .slice(1);
    const zhang = rowOf('张三');
    const li = rowOf('李四');
    expect(s.autofilter).toMatch(/^A1:[A-Z]+\d+$/);
    // Hand-counted (testing.ts): 张三 W1 WA1 C5, 李四 W2 C4.
    expect(s.cells[`${h.会话数}${zhang}`]!.v).toBe(3);
    expect(s.cells[`${h.会话数}${li}`]!.v).toBe(2);
    expect(s.cells[`${h.漏接数}${li}`]!.v).toBe(1);
    expect(s.cells[`${h.已解决}${zhang}`]!.v).toBe(2);
    // First response: 张三 W1 30 s, WA1 60 s → 45 s, stored as days under [mm]:ss.
    const frt = s.cells[`${h.首次响应时长}${zhang}`]!;
    expect(frt.fmt).toBe('[mm]:ss');
    expect(frt.v).toBe('0:00:45');
    expect(s.cells[`${h.解决率}${li}`]!.fmt).toBe('0.0%');
  });

  it('writes the score and computed fields as live formulas whose cached values are ours', () => {
    const s = opened.sheets.汇总!;
    const h = headerCells(opened, '汇总');
    const scoreCol = h[`绩效得分(${SCORE.name})`]!;
    const effCol = h.有效工作率!;
    const rows = bundle.current.rows;
    rows.forEach((row, i) => {
      const r = i + 2;
      const score = s.cells[`${scoreCol}${r}`]!;
      expect(String(score.v)).toMatch(/^=/);
      const expected = computeScore(SCORE, row.metrics).score;
      if (expected === null) expect(score.cached).toBeNull();
      else expect(score.cached).toBeCloseTo(expected, 9);
      expect(row.metrics.score ?? null).toEqual(expected);
      const eff = s.cells[`${effCol}${r}`]!;
      expect(String(eff.v)).toMatch(/^=.*\/.*\*100/);
      const computed = bundle.computed.rows[i]!.有效工作率 ?? null;
      if (computed === null) expect(eff.cached).toBeNull();
      else expect(eff.cached).toBeCloseTo(computed, 9);
    });
    // 李四: received 3 (W2, C4, C5 before the transfer), valid 2 → 66.7.
    const li = rows.findIndex((r) => r.key.agent === '李四');
    expect(s.cells[`${effCol}${li + 2}`]!.cached).toBeCloseTo(200 / 3, 9);
  });

  it('carries the conditional formats and a note on the anomalous cell', () => {
    const s = opened.sheets.汇总!;
    const h = headerCells(opened, '汇总');
    const ranges = s.conditional.map((c) => [c.range.replace(/\d+/g, ''), c.rules]);
    expect(ranges).toContainEqual([`${h.解决率}:${h.解决率}`, ['expression']]);
    expect(ranges).toContainEqual([`${h.平均满意度}:${h.平均满意度}`, ['colorScale']]);
    const zhang = bundle.current.rows.findIndex((r) => r.key.agent === '张三') + 2;
    const note = s.comments[`${h.首次响应时长}${zhang}`];
    expect(note).toContain('首次响应时长高于本人近 8 周基线');
    expect(note).toContain('3 个并发会话');
    expect(opened.parts['xl/drawings/vmlDrawing1.vml']).toContain('ObjectType="Note"');
  });

  it('has a real pivot table over the detail, consistent with its cache and with the summary', () => {
    const p = opened.sheets.透视表!.pivots;
    expect(p).toHaveLength(1);
    const pivot = p[0]!;
    expect(pivot.refreshOnLoad).toBe(true);
    expect(pivot.source).toEqual({ ref: 'A1:R6', sheet: '明细' });
    const detailHeader = Object.entries(opened.sheets.明细!.cells)
      .filter(([ref]) => /^[A-Z]1$/.test(ref))
      .map(([, c]) => c.v);
    expect(pivot.cacheFields).toEqual(detailHeader);
    expect(pivot.fields).toBe(pivot.cacheFields.length);
    expect(pivot.cacheFields[pivot.rowFields[0]!]).toBe('负责客服');
    expect(pivot.dataFields.map((d) => [pivot.cacheFields[d.fld], d.subtotal])).toEqual([
      ['会话ID', 'count'],
      ['漏接', 'sum'],
      ['已解决', 'sum'],
      ['客户消息数', 'sum'],
    ]);
  });

  it('lists one detail row per counted conversation, masked, in start order', () => {
    const d = opened.sheets.明细!.cells;
    expect(['A2', 'A3', 'A4', 'A5', 'A6'].map((r) => d[r]!.v)).toEqual(['W1', 'W2', 'WA1', 'C4', 'C5']);
    expect(d.A7).toBeUndefined(); // October's O1 is outside the period
    expect(d.C2!.v).toBe('138****5678');
    expect(d.C3!.v).toBe('a***@example.com');
    expect(d.C4!.v).toBe('+44 ******3456');
    expect(d.G6!.v).toBe('李四 → 张三');
    expect(d.R6!.v).toBe('回拨 139****5678');
    expect(d.H2!.v).toBe('2025-11-03 10:00:00');
    expect(d.Q5!.v).toBe(1); // C4 missed
    expect(d.P4).toBeUndefined(); // WA1 unrated: left out by the rule
  });

  it('leaves no readable phone number or e-mail in any part of the file', () => {
    for (const [name, text] of Object.entries(opened.parts)) expect(findUnmasked(text), name).toBeUndefined();
    for (const raw of RAW_CONTACTS) expect(allText(opened).some((t) => t.includes(raw))).toBe(false);
  });

  it('explains every metric, formula and parameter in 口径说明', () => {
    const texts = Object.values(opened.sheets.口径说明!.cells).map((c) => String(c.v));
    const all = texts.join('\n');
    for (const m of bundle.template.metrics) expect(all).toContain(`(${m})`);
    expect(all).toContain('有效会话数 / 接待会话数 * 100');
    expect(all).toContain(SCORE.name);
    expect(all).toContain('45 秒'); // first-response threshold
    expect(all).toContain('closed_and_rated');
    expect(all).toContain('Asia/Shanghai');
    expect(all).toContain('周一 09:00–18:00');
    expect(all).toContain('全部(脱敏)');
    expect(all).toContain('2025-11-01 至 2025-11-30');
  });

  it('compares with the previous period, arrows coloured by direction', () => {
    const c = opened.sheets.环比!.cells;
    const rows = Object.keys(c)
      .filter((r) => r.startsWith('A'))
      .map((r) => Number(r.slice(1)));
    const line = rows.find((r) => c[`A${r}`]!.v === '张三' && c[`C${r}`]!.v === '首次响应时长')!;
    // 张三: 45 s now, 90 s in October (O1): down, which is good for a time → green.
    expect(c[`D${line}`]!.v).toBe('0:00:45');
    expect(c[`E${line}`]!.v).toBe('0:01:30');
    expect(c[`G${line}`]!.v).toBe('↓');
    expect(String(c[`F${line}`]!.v)).toMatch(/^=IF/);
    expect(c[`F${line}`]!.cached).toBe('-1 day, 23:59:15'); // −45 s as openpyxl shows a negative duration
    const sheet = opened.parts['xl/worksheets/sheet5.xml']!;
    const style = (r: number) => Number(new RegExp(`<c r="G${r}" s="(\\d+)"`).exec(sheet)?.[1]);
    expect(style(line)).toBe(S.up);
    // Conversations (neutral) of 张三 rose 1 → 3: ↑ without a judgement; CSAT fell 5 → 4.5: ↓ red.
    const conv = rows.find((r) => c[`A${r}`]!.v === '张三' && c[`C${r}`]!.v === '会话数')!;
    expect([c[`G${conv}`]!.v, style(conv)]).toEqual(['↑', S.flat]);
    const csat = rows.find((r) => c[`A${r}`]!.v === '张三' && c[`C${r}`]!.v === '平均满意度')!;
    expect([c[`D${csat}`]!.v, c[`E${csat}`]!.v, c[`G${csat}`]!.v, style(csat)]).toEqual([
      4.5,
      5,
      '↓',
      S.down,
    ]);
    // The computed field too: 张三's 有效工作率 in October (O1: 1 received, 1 valid) = 100; November's
    // is the summary's cached value; a computed field has no direction, so the arrow is not judged.
    const eff = rows.find((r) => c[`A${r}`]!.v === '张三' && c[`C${r}`]!.v === '有效工作率')!;
    expect(c[`E${eff}`]!.v).toBe(100);
    const zhangNow = bundle.computed.rows[bundle.current.rows.findIndex((r) => r.key.agent === '张三')]!;
    expect(c[`D${eff}`]!.v).toBeCloseTo(zhangNow.有效工作率!, 6);
    expect(style(eff)).toBe(S.flat);
    const totalEff = rows.find((r) => c[`A${r}`]!.v === '合计' && c[`C${r}`]!.v === '有效工作率')!;
    expect(c[`E${totalEff}`]!.v).toBe(100);
    const styles = opened.parts['xl/styles.xml']!;
    const xfs = /<cellXfs[^>]*>(.*)<\/cellXfs>/.exec(styles)![1]!.match(/<xf [^>]*>/g)!;
    const fonts = /<fonts[^>]*>(.*)<\/fonts>/.exec(styles)![1]!.match(/<font>.*?<\/font>/g)!;
    const fontOf = (xf: number) => fonts[Number(/fontId="(\d+)"/.exec(xfs[xf]!)![1])]!;
    expect(fontOf(S.up)).toContain('FF00B050'); // green
    expect(fontOf(S.down)).toContain('FFC00000'); // red
  });

  it('lists the anomalies', () => {
    const a = opened.sheets.异常提醒!.cells;
    expect([a.A2!.v, a.B2!.v, a.F2!.v]).toEqual(['张三', '首次响应时长', '首次响应时长高于本人近 8 周基线']);
  });

  it('shows personal data to a viewer with pii:view (the scan above can fail)', async () => {
    const b = await bundleFor(store, template({ sheets: ['detail'] }), {
      ...MASKED_VIEWER,
      label: 'HR',
      canSeePii: true,
    });
    const r = await writeWorkbook(store, b, { outDir: dir, baseName: 'hr' });
    const o = openWithOpenpyxl(r.files[0]!);
    expect(o.sheets.明细!.cells.C2!.v).toBe('13812345678');
    expect(Object.values(o.parts).some((t) => findUnmasked(t) !== undefined)).toBe(true);
  });

  it('leaves hidden columns out of every sheet', async () => {
    const viewer = { ...MASKED_VIEWER, label: '客服:张三', hidden: ['score', 'frt_avg_s', '有效工作率'] };
    const b = await bundleFor(store, template(), viewer);
    const r = await writeWorkbook(store, b, { outDir: dir, baseName: 'hidden' });
    const o = openWithOpenpyxl(r.files[0]!);
    const cellsText = Object.values(o.sheets)
      .flatMap((s) => Object.values(s.cells).map((c) => String(c.v)))
      .join('\n');
    expect(cellsText).not.toContain('绩效得分');
    expect(cellsText).not.toContain('首次响应时长');
    expect(cellsText).not.toContain('有效工作率');
    expect(cellsText).toContain('解决率');
    expect(Object.keys(o.sheets.汇总!.comments)).toEqual([]); // the anomaly was on the hidden metric
  });

  it('splits above the row limit into parts, each with its own summary', async () => {
    const b = await bundleFor(store, template({ rowLimit: 2 }));
    const r = await writeWorkbook(store, b, { outDir: dir, baseName: '客服绩效_2025-11' });
    expect(r.detailRows).toBe(5);
    expect(r.files.map((f) => basename(f))).toEqual([
      '客服绩效_2025-11_part1.xlsx',
      '客服绩效_2025-11_part2.xlsx',
      '客服绩效_2025-11_part3.xlsx',
    ]);
    const ids: unknown[] = [];
    for (const f of r.files) {
      const o = openWithOpenpyxl(f);
      expect(o.sheetnames).toContain('汇总');
      expect(o.sheets.汇总!.cells.A1!.v).toBe('客服');
      const d = o.sheets.明细!.cells;
      for (let row = 2; d[`A${row}`]; row++) ids.push(d[`A${row}`]!.v);
      const pivot = o.sheets.透视表!.pivots[0]!;
      expect(pivot.source.ref).toBe(`A1:R${Object.keys(d).filter((k) => k.startsWith('A')).length}`);
    }
    expect(ids).toEqual(['W1', 'W2', 'WA1', 'C4', 'C5']);
    expect(existsSync(join(dir, '客服绩效_2025-11.xlsx'))).toBe(true); // the earlier single file, untouched
  });

  it('refuses a template with an unknown sheet, naming it', async () => {
    const b = await bundleFor(store, template({ sheets: ['summary', 'charts' as never] }));
    await expect(writeWorkbook(store, b, { outDir: dir, baseName: 'bad' })).rejects.toThrow(/charts/);
  });

  it.runIf(dialect === 'sqlite')(
    'is opened by LibreOffice: pivot computed equal to the summary, formulas recalculated equal to the cached values',
    () => {
      const lo = openWithOpenpyxl(roundTripThroughLibreOffice(file, dir));
      const pivotRows = Object.entries(lo.sheets.透视表!.cells)
        .filter(([ref]) => ref.startsWith('A'))
        .map(([ref, c]) => [c.v, Number(ref.slice(1))] as const);
      const cell = (sheet: string, ref: string) => lo.sheets[sheet]!.cells[ref]?.cached ?? null;
      const header = Object.entries(lo.sheets.透视表!.cells).find(([, c]) => c.v === '计数项:会话ID')![0];
      const headerRow = Number(header.slice(1));
      const col = (name: string) => {
        const hit = Object.entries(lo.sheets.透视表!.cells).find(
          ([ref, c]) => c.v === name && Number(ref.slice(1)) === headerRow,
        );
        return hit![0].replace(/\d+$/, '');
      };
      const h = headerCells(lo, '汇总');
      const totals: Record<string, number> = {};
      for (const [label, r] of pivotRows) {
        if (r <= headerRow) continue;
        const counts = {
          conversations: cell('透视表', `${col('计数项:会话ID')}${r}`),
          missed: cell('透视表', `${col('求和项:漏接')}${r}`),
          resolved: cell('透视表', `${col('求和项:已解决')}${r}`),
          messages_in: cell('透视表', `${col('求和项:客户消息数')}${r}`),
        };
        const row =
          label === 'Total Result' || label === '总计'
            ? bundle.current.total
            : bundle.current.rows.find((x) => x.key.agent === label)!;
        expect(row, String(label)).toBeDefined();
        for (const [id, v] of Object.entries(counts)) expect(v, `${label} ${id}`).toBe(row.metrics[id]);
        if (row === bundle.current.total) Object.assign(totals, counts);
      }
      expect(totals.conversations).toBe(5);
      // LibreOffice recalculated every formula (testing.ts tells it to): the results equal our cached values.
      const original = opened.sheets.汇总!.cells;
      let formulas = 0;
      for (const [ref, c] of Object.entries(original)) {
        if (!String(c.v).startsWith('=')) continue;
        formulas++;
        const recomputed = cell('汇总', ref);
        if (c.cached === null || c.cached === '') expect(recomputed ?? null, ref).toBeNull();
        else expect(Number(recomputed), ref).toBeCloseTo(Number(c.cached), 9);
      }
      expect(formulas).toBeGreaterThanOrEqual(2 * (bundle.current.rows.length + 1));
      expect(h.有效工作率).toBeDefined();
    },
  );
});

describe('report workbook by channel and by group, empty periods, bad templates (sqlite)', () => {
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    store = await freshStore('sqlite');
    await loadMonth(store);
    dir = mkdtempSync(join(tmpdir(), 'cspulse-xlsx-'));
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const by of ['channel', 'group'] as const) {
    it(`groups the summary and the pivot by ${by}, the pivot's written totals equal to the summary`, async () => {
      const b = await bundleFor(store, template({ by, score: undefined }), MASKED_VIEWER, []);
      const r = await writeWorkbook(store, b, { outDir: dir, baseName: `by-${by}` });
      const o = openWithOpenpyxl(r.files[0]!);
      const pivot = o.sheets.透视表!.pivots[0]!;
      expect(pivot.cacheFields[pivot.rowFields[0]!]).toBe(by === 'channel' ? '渠道' : '客服组');
      const cells = o.sheets.透视表!.cells;
      const labels = Object.entries(cells).filter(([ref]) => /^A\d+$/.test(ref) && Number(ref.slice(1)) > 3);
      const counts = Object.fromEntries(
        labels.map(([ref, c]) => [String(c.v), cells[`B${ref.slice(1)}`]!.v]),
      );
      const expected: Record<string, number | null> = { 总计: b.current.total.metrics.conversations ?? null };
      for (const row of b.current.rows) {
        const label = by === 'channel' ? String(row.key.channel) : String(row.key.group ?? '未分组');
        if (row.metrics.conversations) expected[label] = row.metrics.conversations;
      }
      expect(counts).toEqual(expected);
      // Hand-counted: web W1 W2 C5, whatsapp WA1, wechat C4; 售后组 (张三) 3, 售前组 (李四) 2.
      expect(counts).toEqual(
        by === 'channel' ? { web: 3, whatsapp: 1, wechat: 1, 总计: 5 } : { 售后组: 3, 售前组: 2, 总计: 5 },
      );
    });
  }

  it('writes a period without conversations: header-only detail, no pivot, a note', async () => {
    const b = await bundleFor(store, template({ filters: { channel: ['line'] } }), MASKED_VIEWER, []);
    const r = await writeWorkbook(store, b, { outDir: dir, baseName: 'empty' });
    expect(r.detailRows).toBe(0);
    const o = openWithOpenpyxl(r.files[0]!);
    expect(o.sheets.透视表!.pivots).toEqual([]);
    expect(String(o.sheets.透视表!.cells.A1!.v)).toContain('本期没有会话');
    expect(Object.keys(o.sheets.明细!.cells).every((ref) => ref.endsWith('1'))).toBe(true);
    expect(o.sheets.汇总!.cells.A2!.v).toBe('合计');
  });

  it('names the template and metric of a colour it cannot read, and leaves no file behind', async () => {
    const b = await bundleFor(
      store,
      template({
        conditionalFormats: [
          { metric: 'resolution_rate', kind: 'threshold', op: '<', value: 0.8, fill: 'reddish' },
        ],
      }),
    );
    await expect(writeWorkbook(store, b, { outDir: dir, baseName: 'badcolour' })).rejects.toThrow(
      /测试客服部_月报_v1.*resolution_rate.*reddish/,
    );
    expect(existsSync(join(dir, 'badcolour.xlsx'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('badcolour'))).toEqual([]);
  });
});

describe('a failure while a workbook is being written (sqlite)', () => {
  it('is reported with its cause and removes the partial files', async () => {
    const store = await freshStore('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'cspulse-xlsx-'));
    try {
      await loadMonth(store);
      const b = await bundleFor(store, template({ rowLimit: 2 }));
      // Found only when the summary is built, after the detail has streamed into the first part.
      b.template = { ...b.template, metrics: [...b.template.metrics, 'no_such_metric'] };
      await expect(writeWorkbook(store, b, { outDir: dir, baseName: 'broken' })).rejects.toThrow(
        /no_such_metric/,
      );
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
