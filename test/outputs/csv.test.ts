/**
 * The summary CSV from data imported through the real ingest (test/engine/scenario.ts, arithmetic in
 * test/engine/metrics.test.ts), parsed back with csv-parse: BOM, headers 中文名 (id), values as the
 * JSON report has them, empty cells for nothing-to-measure, hidden columns absent, and cells Excel
 * would run as formulas defused.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRoster } from '../../src/ingest/identities.ts';
import { accept, refreshFacts } from '../../src/ingest/pipeline.ts';
import { buildBundle } from '../../src/outputs/bundle.ts';
import { csvField, writeCsv } from '../../src/outputs/csv.ts';
import { parseTemplate } from '../../src/outputs/templates.ts';
import type { ReportBundle } from '../../src/outputs/types.ts';
import { DEFAULT_VIEWER } from '../../src/outputs/viewer.ts';
import type { Store } from '../../src/store/db.ts';
import { scenario } from '../engine/scenario.ts';
import { freshStore } from '../support/stores.ts';

const W45 = { from: '2025-11-03', to: '2025-11-09', label: '2025-W45' };
const template = parseTemplate({
  name: '电商客服部_周报_v1',
  title: { zh: '周报', en: 'Weekly' },
  metrics: ['conversations', 'frt_avg_s', 'resolution_rate', 'csat_avg'],
  computed: [{ name: '首响分钟', formula: 'frt_avg_s / 60' }],
  score: {
    name: '速度分',
    components: [{ metric: 'frt_avg_s', weight: 100, normalise: { kind: 'linear', best: 0, worst: 300 } }],
  },
});

describe('the summary CSV (sqlite)', () => {
  let store: Store;
  let dir: string;
  let bundle: ReportBundle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cspulse-csv-'));
    store = await freshStore('sqlite');
    await importRoster(store, [
      // A name Excel would run as a formula if it were written as it is.
      {
        name: '=HYPERLINK("http://x","张三")',
        employeeNo: 'KF001',
        group: '售后组',
        accounts: [{ account: 'zhang' }],
      },
      { name: '李四', employeeNo: 'KF002', group: '售前组', accounts: [{ account: 'li' }] },
    ]);
    const r = await accept(
      store,
      scenario().map((raw, i) => ({ line: i + 1, raw })),
      'csv-test',
    );
    expect(r.rejects).toEqual([]);
    await refreshFacts(store);
    bundle = await buildBundle(store, { template, period: W45, viewer: DEFAULT_VIEWER });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (file: string) => {
    const raw = readFileSync(file);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM: Excel then reads Chinese right
    const text = raw.toString('utf8');
    expect(text.includes('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '').includes('\n')).toBe(false);
    return parse(text, { bom: true }) as string[][];
  };

  it('writes one row per agent and the total, with values as the JSON report has them', async () => {
    const r = await writeCsv(bundle, { outDir: dir, baseName: '客服绩效_2025-W45' });
    expect(r).toEqual({ files: [join(dir, '客服绩效_2025-W45.csv')], detailRows: 0 });
    const [header, ...rows] = read(r.files[0]!);
    expect(header).toEqual([
      '客服 (agent)',
      '客服ID (agent_id)',
      '客服组 (group)',
      '会话数 (conversations)',
      '首次响应时长 (frt_avg_s)',
      '解决率 (resolution_rate)',
      '平均满意度 (csat_avg)',
      '首响分钟 (= frt_avg_s / 60)',
      '绩效得分·速度分 (score)',
    ]);
    const byName = new Map(rows.map((x) => [x[0], x]));
    // 张三 (the formula-looking name, defused with a leading '): 3 conversations, 45 s, 2/3, CSAT 4,
    // 0.75 minutes, score (300 − 45) / 3 = 85. Seconds and fractions, not 0:45 and 66.7%.
    const zhang = byName.get(`'=HYPERLINK("http://x","张三")`)!;
    expect(zhang.slice(2)).toEqual(['售后组', '3', '45', '0.666667', '4', '0.75', '85']);
    expect(zhang[1]).toMatch(/\S/);
    // 李四: C's rating went to 张三, its last handler, so nothing resolved or rated → empty cells,
    // never 0; first response 120 s = 2 minutes; score (300 − 120) / 3 = 60.
    expect(byName.get('李四')!.slice(2)).toEqual(['售前组', '0', '120', '', '', '2', '60']);
    // The unassigned row: D, never answered.
    expect(byName.get('未分配')!.slice(1)).toEqual(['', '', '1', '', '', '', '', '']);
    // Total last: 4 conversations, (30 + 60 + 120) / 3 = 70 s.
    expect(rows.at(-1)!.slice(0, 5)).toEqual(['合计', '', '', '4', '70']);
    expect(rows.length).toBe(bundle.current.rows.length + 1);
  });

  it("omits the viewer's hidden columns", async () => {
    const hidden = await buildBundle(store, {
      template,
      period: W45,
      viewer: { ...DEFAULT_VIEWER, hidden: ['score', 'csat_avg', '首响分钟'] },
    });
    const [header] = read((await writeCsv(hidden, { outDir: dir, baseName: 'hidden' })).files[0]!);
    expect(header).toEqual([
      '客服 (agent)',
      '客服ID (agent_id)',
      '客服组 (group)',
      '会话数 (conversations)',
      '首次响应时长 (frt_avg_s)',
      '解决率 (resolution_rate)',
    ]);
  });
});

describe('CSV fields', () => {
  it('quote what must be quoted and defuse formula starts, numbers untouched', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('说"好"')).toBe('"说""好"""');
    expect(csvField('+86 138')).toBe("'+86 138");
    expect(csvField('@sum')).toBe("'@sum");
    expect(csvField('-1')).toBe("'-1");
  });

  it('any text survives a round trip through a CSV parser (after the defusing quote)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('=1+1', '"', ',', '\r\n', '中文,"引号"')), {
          minLength: 1,
          maxLength: 6,
        }),
        (cells) => {
          const line = cells.map((c) => csvField(c)).join(',');
          const [back] = parse(`${line}\r\n`, { relax_column_count: true }) as string[][];
          expect(back).toEqual(cells.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
        },
      ),
    );
  });
});
