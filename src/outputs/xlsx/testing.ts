/**
 * For the workbook tests: a small hand-made month imported through the real ingest, a bundle built
 * from runReport (as buildBundle will), and the reading of a workbook by openpyxl (Debian's
 * python3-openpyxl) and by LibreOffice headless, the programs the issue checks workbooks with.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importRoster } from '../../ingest/identities.ts';
import { accept, refreshFacts } from '../../ingest/pipeline.ts';
import { compileFormula } from '../../metrics/formula.ts';
import { runReport } from '../../metrics/report.ts';
import type { ScoreModel } from '../../metrics/scores.ts';
import { parseTimestamp } from '../../model/time.ts';
import type { Store } from '../../store/db.ts';
import { loadSettings } from '../../store/settings.ts';
import type { Anomaly, ReportBundle, ReportTemplate, Viewer } from '../types.ts';

const at = (local: string): number => parseTimestamp(local, 'Asia/Shanghai')!;

/**
 * Six conversations, every number hand-countable (per responsible agent, November 2025):
 * 张三 W1 (frt 30 s, closed, 5 → resolved), WA1 (frt 60 s, unrated), C5 (transferred in from 李四,
 * rated 4 → resolved); 李四 W2 (frt 120 s, rated 2 → unresolved), C4 (never answered → missed).
 * O1 is in October (the previous period). Customers are a phone, an e-mail, an international number.
 */
export function monthEvents(): unknown[] {
  let n = 0;
  const ev = (
    kind: string,
    conv: string,
    channel: string,
    customer: object,
    ts: string,
    extra: object = {},
  ) => ({
    kind,
    id: `e${++n}`,
    source: 'xlsx-test',
    channel,
    conversationId: conv,
    customer,
    ts: at(ts),
    ...extra,
  });
  const phone = { id: '13812345678', name: '王小明', region: '北京', tags: ['VIP'] };
  const mail = { id: 'alice@example.com', region: '上海' };
  const intl = { id: '+44 7911 123456', region: '海外' };
  const c4 = { id: 'wm_4', region: '广东' };
  const c5 = { id: 'wm_5', region: '北京' };
  const c6 = { id: 'wm_6', region: '北京' };
  return [
    ev('message', 'W1', 'web', phone, '2025-11-03 10:00:00', {
      role: 'customer',
      text: '订单没到,电话 13812345678',
    }),
    ev('assignment', 'W1', 'web', phone, '2025-11-03 10:00:10', { account: 'zhang' }),
    ev('message', 'W1', 'web', phone, '2025-11-03 10:00:40', {
      role: 'agent',
      account: 'zhang',
      text: '我查一下',
    }),
    ev('close', 'W1', 'web', phone, '2025-11-03 10:05:00'),
    ev('rating', 'W1', 'web', phone, '2025-11-03 10:06:00', { score: 5 }),

    ev('message', 'W2', 'web', mail, '2025-11-04 14:00:00', { role: 'customer', text: '退款' }),
    ev('assignment', 'W2', 'web', mail, '2025-11-04 14:00:00', { account: 'li' }),
    ev('message', 'W2', 'web', mail, '2025-11-04 14:02:00', { role: 'agent', account: 'li', text: '好的' }),
    ev('close', 'W2', 'web', mail, '2025-11-04 14:10:00'),
    ev('rating', 'W2', 'web', mail, '2025-11-04 14:11:00', { score: 2 }),

    ev('message', 'WA1', 'whatsapp', intl, '2025-11-05 09:00:00', {
      role: 'customer',
      text: 'hello, my order?',
    }),
    ev('assignment', 'WA1', 'whatsapp', intl, '2025-11-05 09:00:05', { account: 'zhang' }),
    ev('message', 'WA1', 'whatsapp', intl, '2025-11-05 09:01:05', {
      role: 'agent',
      account: 'zhang',
      text: 'checking',
    }),

    ev('message', 'C4', 'wechat', c4, '2025-11-06 11:00:00', { role: 'customer', text: '怎么退货' }),
    ev('assignment', 'C4', 'wechat', c4, '2025-11-06 11:00:00', { account: 'li' }),

    ev('message', 'C5', 'web', c5, '2025-11-07 16:00:00', {
      role: 'customer',
      text: '发票',
      tags: ['回拨 13912345678'],
    }),
    ev('assignment', 'C5', 'web', c5, '2025-11-07 16:00:00', { account: 'li' }),
    ev('message', 'C5', 'web', c5, '2025-11-07 16:00:30', { role: 'agent', account: 'li', text: '稍等' }),
    ev('assignment', 'C5', 'web', c5, '2025-11-07 16:01:00', { account: 'zhang', transfer: true }),
    ev('message', 'C5', 'web', c5, '2025-11-07 16:02:00', {
      role: 'agent',
      account: 'zhang',
      text: '已处理',
    }),
    ev('close', 'C5', 'web', c5, '2025-11-07 16:05:00'),
    ev('rating', 'C5', 'web', c5, '2025-11-07 16:06:00', { score: 4 }),

    ev('message', 'O1', 'web', c6, '2025-10-15 10:00:00', { role: 'customer', text: '在线吗,查物流' }),
    ev('assignment', 'O1', 'web', c6, '2025-10-15 10:00:00', { account: 'zhang' }),
    ev('message', 'O1', 'web', c6, '2025-10-15 10:01:30', { role: 'agent', account: 'zhang', text: '在' }),
    ev('close', 'O1', 'web', c6, '2025-10-15 10:05:00'),
    ev('rating', 'O1', 'web', c6, '2025-10-15 10:06:00', { score: 5 }),
  ];
}

export async function loadMonth(store: Store): Promise<void> {
  await importRoster(store, [
    { name: '张三', employeeNo: 'KF001', group: '售后组', accounts: [{ account: 'zhang' }] },
    { name: '李四', employeeNo: 'KF002', group: '售前组', accounts: [{ account: 'li' }] },
  ]);
  const r = await accept(
    store,
    monthEvents().map((raw, i) => ({ line: i + 1, raw })),
    'month',
  );
  if (r.rejects.length) throw new Error(`rejected: ${JSON.stringify(r.rejects)}`);
  await refreshFacts(store);
}

export const SCORE: ScoreModel = {
  name: '测试模型',
  components: [
    { metric: 'frt_avg_s', weight: 40, normalise: { kind: 'linear', best: 15, worst: 120 } },
    { metric: 'resolution_rate', weight: 40, normalise: { kind: 'pct' } },
    { metric: 'csat_avg', weight: 20, normalise: { kind: 'scale', min: 1, max: 5 } },
  ],
};

export function template(over: Partial<ReportTemplate> = {}): ReportTemplate {
  return {
    name: '测试客服部_月报_v1',
    title: { zh: '客服绩效月报', en: 'Monthly CS performance' },
    by: 'agent',
    filters: {},
    metrics: [
      'conversations',
      'received',
      'valid',
      'missed',
      'messages_in',
      'resolved',
      'frt_avg_s',
      'resolution_rate',
      'csat_avg',
    ],
    computed: [{ name: '有效工作率', formula: '有效会话数 / 接待会话数 * 100' }],
    score: SCORE,
    conditionalFormats: [
      { metric: 'resolution_rate', kind: 'threshold', op: '<', value: 0.8, fill: '#FFC7CE' },
      { metric: 'csat_avg', kind: 'colorScale' },
    ],
    sheets: ['summary', 'pivot', 'detail', 'definitions', 'comparison', 'anomalies'],
    rowLimit: 50_000,
    businessHours: false,
    ...over,
  };
}

export const MASKED_VIEWER: Viewer = {
  label: '全部(脱敏)',
  scope: { kind: 'all' },
  canSeePii: false,
  hidden: [],
};

/** A bundle as buildBundle makes it, from runReport directly (November against October). */
export async function bundleFor(
  store: Store,
  t: ReportTemplate,
  viewer: Viewer = MASKED_VIEWER,
  anomalies?: Anomaly[],
): Promise<ReportBundle> {
  const settings = await loadSettings(store);
  const scopeFilters = { ...t.filters };
  if (viewer.scope.kind === 'group') scopeFilters.group = [viewer.scope.group];
  if (viewer.scope.kind === 'agent') scopeFilters.agent = [viewer.scope.agentId];
  const req = (from: string, to: string, by: ('agent' | 'group' | 'channel' | 'day')[]) =>
    runReport(
      store,
      {
        from,
        to,
        by,
        metrics: t.metrics,
        score: t.score,
        filters: scopeFilters,
        businessHours: t.businessHours,
      },
      settings,
    );
  const current = await req('2025-11-01', '2025-11-30', [t.by]);
  const previous = await req('2025-10-01', '2025-10-31', [t.by]);
  const formulas = t.computed.map((c) => ({ name: c.name, f: compileFormula(c.formula) }));
  const computedOf = (m: Record<string, number | null>) =>
    Object.fromEntries(formulas.map(({ name, f }) => [name, f.evaluate((id) => m[id])]));
  const zhang = current.rows.find((r) => r.key.agent === '张三');
  return {
    template: t,
    period: { from: '2025-11-01', to: '2025-11-30', label: '2025-11' },
    previousPeriod: { from: '2025-10-01', to: '2025-10-31', label: '2025-10' },
    viewer,
    settings,
    generatedAt: Date.parse('2025-12-01T00:30:00Z'),
    current,
    previous,
    byDay: await req('2025-11-01', '2025-11-30', ['day']),
    byChannel: await req('2025-11-01', '2025-11-30', ['channel']),
    computed: {
      rows: current.rows.map((r) => computedOf(r.metrics)),
      total: computedOf(current.total.metrics),
      previous: {
        rows: previous.rows.map((r) => computedOf(r.metrics)),
        total: computedOf(previous.total.metrics),
      },
    },
    anomalies: anomalies ?? [
      {
        key: String(zhang?.key.agent_id ?? ''),
        name: '张三',
        metric: 'frt_avg_s',
        value: 45,
        baseline: 20,
        z: 3.2,
        reason: { zh: '首次响应时长高于本人近 8 周基线', en: 'first response above own 8-week baseline' },
        context: {
          zh: '2025-11-05 09:00–10:00:3 个并发会话,来自 whatsapp',
          en: '2025-11-05 09:00–10:00: 3 concurrent, whatsapp',
        },
      },
    ],
  };
}

const SCRIPT = `
import json, sys, zipfile
import openpyxl
path = sys.argv[1]
out = {"parts": {}, "sheets": {}}
with zipfile.ZipFile(path) as z:
    for n in z.namelist():
        out["parts"][n] = z.read(n).decode("utf-8", "replace")
wb = openpyxl.load_workbook(path)
cached = openpyxl.load_workbook(path, data_only=True)
out["sheetnames"] = wb.sheetnames
def plain(v):
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)
for ws in wb.worksheets:
    cws = cached[ws.title]
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            cells[c.coordinate] = {"v": plain(c.value), "cached": plain(cws[c.coordinate].value), "fmt": c.number_format}
    info = {
        "cells": cells,
        "freeze": ws.freeze_panes,
        "autofilter": ws.auto_filter.ref,
        "comments": {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment},
        "conditional": [
            {"range": str(rng.sqref), "rules": [r.type for r in rules]}
            for rng, rules in ws.conditional_formatting._cf_rules.items()
        ],
        "pivots": [],
    }
    for p in ws._pivots:
        cache = p.cache
        info["pivots"].append({
            "name": p.name,
            "location": p.location.ref,
            "fields": len(p.pivotFields),
            "rowFields": [f.x for f in p.rowFields],
            "dataFields": [{"name": d.name, "fld": d.fld, "subtotal": d.subtotal} for d in p.dataFields],
            "cacheFields": [f.name for f in cache.cacheFields],
            "refreshOnLoad": bool(cache.refreshOnLoad),
            "source": {"ref": cache.cacheSource.worksheetSource.ref, "sheet": cache.cacheSource.worksheetSource.sheet},
        })
    out["sheets"][ws.title] = info
print(json.dumps(out, ensure_ascii=False))
`;

export interface OpenedCell {
  v: string | number | boolean | null;
  cached: string | number | boolean | null;
  fmt: string;
}
export interface OpenedWorkbook {
  parts: Record<string, string>;
  sheetnames: string[];
  sheets: Record<
    string,
    {
      cells: Record<string, OpenedCell>;
      freeze: string | null;
      autofilter: string | null;
      comments: Record<string, string>;
      conditional: { range: string; rules: string[] }[];
      pivots: {
        name: string;
        location: string;
        fields: number;
        rowFields: number[];
        dataFields: { name: string; fld: number; subtotal: string }[];
        cacheFields: string[];
        refreshOnLoad: boolean;
        source: { ref: string; sheet: string };
      }[];
    }
  >;
}

/** The workbook as openpyxl reads it, with every part of the zip as text. */
export function openWithOpenpyxl(file: string): OpenedWorkbook {
  const dir = mkdtempSync(join(tmpdir(), 'cspulse-openpyxl-'));
  try {
    const script = join(dir, 'read.py');
    writeFileSync(script, SCRIPT);
    const out = execFileSync('/usr/bin/python3', [script, file], { maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(out.toString('utf8')) as OpenedWorkbook;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * LibreOffice opens the workbook (pivot refreshed, formulas recalculated) and saves it again as
 * xlsx, under `scratch` (its profile too): the caller removes that folder.
 */
export function roundTripThroughLibreOffice(file: string, scratch: string): string {
  const dir = mkdtempSync(join(scratch, 'soffice-'));
  // LibreOffice keeps an xlsx file's cached formula values unless told to recalculate on load.
  mkdirSync(join(dir, 'profile', 'user'), { recursive: true });
  writeFileSync(
    join(dir, 'profile', 'user', 'registrymodifications.xcu'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item></oor:items>',
  );
  execFileSync(
    'soffice',
    [
      `-env:UserInstallation=file://${join(dir, 'profile')}`,
      '--headless',
      '--convert-to',
      'xlsx',
      '--outdir',
      join(dir, 'out'),
      file,
    ],
    { stdio: 'pipe', timeout: 120_000 },
  );
  const produced = readdirSync(join(dir, 'out'));
  if (produced.length !== 1) throw new Error(`LibreOffice produced ${produced.length} files from ${file}`);
  return join(dir, 'out', produced[0]!);
}
