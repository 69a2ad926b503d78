/**
 * The PDF report (A4): title, headline figures with 环比, the summary table, three charts, the
 * anomalies, and the 口径 of every metric shown, with page numbers and the generation time in the
 * reporting timezone on every page. It reads only the bundle: the numbers are the workbook's numbers.
 *
 * pdfkit lays out the pages; charts are echarts SVG (charts/svg.ts) drawn as vectors by svg-to-pdfkit,
 * so they stay sharp when printed and their labels are real text. Every string goes through the
 * embedded CJK font (fonts.ts): a machine without one gets an error naming the package, not boxes.
 */
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { metricById, resolveMetric } from '../../metrics/catalog.ts';
import { formatValue } from '../../metrics/format.ts';
import { tzOffset } from '../../model/time.ts';
import { getOrInsert } from '../../util/maps.ts';
import { ROW_KIND_LABEL, rowLabel } from '../charts/labels.ts';
import {
  barMetric,
  CHART_METRICS,
  channelShareOption,
  frtTrendOption,
  rateBarOption,
} from '../charts/options.ts';
import { renderSvg } from '../charts/svg.ts';
import type { ExportResult, ReportBundle } from '../types.ts';
import { type CjkFont, findCjkFont, PdfFontError } from './fonts.ts';
import { headlines, type Tone } from './headline.ts';
import { drawTable, type TableCell, type TableColumn, type TableSpec } from './table.ts';

type Doc = InstanceType<typeof PDFDocument>;

const MARGIN = { top: 42, bottom: 52, left: 40, right: 40 };
const A4 = { width: 595.28, height: 841.89 };
const WIDTH = A4.width - MARGIN.left - MARGIN.right;
const REGULAR = 'cjk';
/**
 * Charts are laid out this much larger than their box and scaled down into it: the options keep
 * screen sizes (12 px axis labels) for the dashboard, which would print larger than the table text.
 */
const CHART_SCALE = 1.35;
/** Bar chart rows a page holds legibly; more and the chart shows the best and worst halves. */
const BAR_ROWS = 40;
const EMPTY = '—';

const TONE_COLOUR: Record<Tone, string> = {
  better: '#2e7d32',
  worse: '#c62828',
  neutral: '#666666',
  none: '#999999',
};

export interface PdfOptions {
  outDir: string;
  baseName: string;
  /** The font to embed; default: findCjkFont() (CSPULSE_PDF_FONT, then Noto Sans CJK). */
  font?: CjkFont;
}

export async function writePdf(bundle: ReportBundle, o: PdfOptions): Promise<ExportResult> {
  const font = o.font ?? findCjkFont();
  mkdirSync(o.outDir, { recursive: true });
  const file = join(o.outDir, `${o.baseName}.pdf`);
  // Written beside and renamed when complete: a failed render never leaves half a PDF under the real name.
  const partial = `${file}.partial`;
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    info: {
      Title: `${bundle.template.title.zh} ${bundle.period.label}`,
      Subject: `${bundle.template.title.en} ${bundle.period.from}..${bundle.period.to}`,
      Author: 'CS Pulse',
      Creator: 'CS Pulse',
      CreationDate: new Date(bundle.generatedAt),
    },
  });
  // Fonts first: a missing or unreadable font fails before any file exists.
  registerFonts(doc, font);
  const out = createWriteStream(partial);
  const written = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    doc.on('error', reject);
  });
  // Awaited below on success; on a render error the stream is torn down instead.
  written.catch(() => {});
  doc.pipe(out);
  try {
    render(doc, bundle);
    doc.end();
    await written;
    renameSync(partial, file);
    const missing = [...(MISSING.get(doc) ?? [])];
    if (missing.length)
      console.warn(
        `⚠ ${file}: 字体 ${font.path} 没有这些字符,它们在 PDF 中显示为方框 / the font has no glyph for these` +
          ` characters, which print as empty boxes: ${missing.join(' ')} — CSPULSE_PDF_FONT can name a font that has them`,
      );
  } catch (e) {
    doc.unpipe(out);
    await new Promise<void>((resolve) => out.destroy().once('close', () => resolve()));
    rmSync(partial, { force: true });
    throw e;
  }
  return { files: [file], detailRows: 0 };
}

/** Font files by path: a CJK collection is ~20 MB, read once per process rather than once per PDF. */
const fontFiles = new Map<string, Buffer>();
const fontFile = (path: string) => getOrInsert(fontFiles, path, () => readFileSync(path));

/**
 * OpenType features pdfkit would apply to every string. Chinese text, digits and Latin labels need none
 * of them (Noto's SC face already maps to SC glyphs; no ligatures or kerning are wanted in a table),
 * and Noto CJK's contextual lookups made shaping 3–7× the cost of the rest of the report.
 */
const PLAIN_FEATURES = Object.fromEntries(
  ['ccmp', 'locl', 'rlig', 'calt', 'clig', 'liga', 'rclt', 'kern', 'mark', 'mkmk', 'curs'].map((f) => [
    f,
    false,
  ]),
);

function registerFonts(doc: Doc, font: CjkFont): void {
  try {
    doc.registerFont(REGULAR, fontFile(font.path), font.family);
    // Loading happens on first use: do it here so a bad file or face name fails with this message.
    plainShaping(doc.font(REGULAR));
  } catch (e) {
    throw new PdfFontError(
      `字体无法加载 / cannot load the font ${font.path}${font.family ? `#${font.family}` : ''}: ${(e as Error).message}`,
    );
  }
}

/**
 * Emphasis without a bold font: the regular glyphs filled and outlined by a hairline of the same
 * colour. A second CJK face (Noto's bold) doubled the font parsing and subsetting — most of a
 * report's time — for a handful of headings.
 */
function strong(doc: Doc, colour: string, size: number): Doc {
  return doc
    .font(REGULAR)
    .fontSize(size)
    .fillColor(colour)
    .strokeColor(colour)
    .lineWidth(size * 0.04);
}
const STRONG = { fill: true, stroke: true } as const;

function render(doc: Doc, b: ReportBundle): void {
  titleBlock(doc, b);
  headlineCards(doc, b);
  section(doc, '汇总表', `Summary, one row per ${ROW_KIND_LABEL[b.template.by].en.toLowerCase()}`);
  drawTable(doc, summaryTable(b), {
    x: MARGIN.left,
    width: WIDTH,
    font: REGULAR,
    fontSize: 7.5,
    headerFontSize: 7,
    rowHeight: 14,
    minColumnWidth: 48,
    groupCaption: (g, n) => `第 ${g} / ${n} 组列(每组重复客服列)· columns, part ${g} of ${n}`,
  });
  charts(doc, b);
  anomalies(doc, b);
  doc.addPage();
  definitions(doc, b);
  footers(doc, b);
}

type FontkitFont = {
  layout: (...a: unknown[]) => unknown;
  hasGlyphForCodePoint?: (cp: number) => boolean;
  plain?: boolean;
};

/** Characters the embedded font has no glyph for, per document: they would print as empty boxes. */
const MISSING = new WeakMap<Doc, Set<string>>();

/**
 * Every string pdfkit and svg-to-pdfkit draw is shaped by the fontkit font's layout: there the text is
 * shaped without optional features (PLAIN_FEATURES) and checked for characters the font lacks (an
 * emoji in an agent's name), so they are reported instead of printed as boxes without a word. Where
 * pdfkit's internals differ from the pinned version the font is left as it is (slower, unchecked).
 */
function plainShaping(doc: Doc): void {
  const fk = (doc as unknown as { _font?: { font?: FontkitFont } })._font?.font;
  if (!fk?.layout || fk.plain) return;
  const layout = fk.layout.bind(fk);
  const missing = getOrInsert(MISSING, doc, () => new Set<string>());
  fk.layout = (text: unknown, features: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && fk.hasGlyphForCodePoint)
      for (const ch of text) {
        const cp = ch.codePointAt(0)!;
        if (cp > 0x20 && !fk.hasGlyphForCodePoint(cp)) missing.add(ch);
      }
    return layout(text, features ?? PLAIN_FEATURES, ...rest);
  };
  fk.plain = true;
}

// ---- Title and headline figures ----------------------------------------------------------------

function titleBlock(doc: Doc, b: ReportBundle): void {
  const grey = '#555555';
  strong(doc, '#1f2d4d', 18).text(b.template.title.zh, MARGIN.left, MARGIN.top, STRONG);
  doc
    .font(REGULAR)
    .fontSize(9.5)
    .fillColor(grey)
    .text(
      [
        `${b.period.from} 至 ${b.period.to}(${b.period.label})`,
        `范围:${b.viewer.label}`,
        `时区 ${b.settings.timezone}`,
        b.current.businessHours ? '按工作时间计' : '按自然时间计',
      ].join(' · '),
    );
  doc
    .fontSize(8)
    .fillColor('#888888')
    .text(
      `${b.template.title.en} · ${b.period.from} – ${b.period.to} · 环比对比期 ${b.previousPeriod.from} 至 ${b.previousPeriod.to}`,
    );
  doc.y += 8;
}

function headlineCards(doc: Doc, b: ReportBundle): void {
  const cards = headlines(b);
  if (!cards.length) return;
  const gap = 8;
  const w = (WIDTH - gap * (cards.length - 1)) / cards.length;
  const h = 58;
  const y = doc.y;
  cards.forEach((c, i) => {
    const x = MARGIN.left + i * (w + gap);
    doc.roundedRect(x, y, w, h, 4).fill('#f2f4f8');
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor('#555555')
      .text(c.label, x + 8, y + 7, { width: w - 16, height: 11, ellipsis: true });
    strong(doc, '#1f2d4d', 16).text(c.value, x + 8, y + 20, {
      width: w - 16,
      height: 20,
      ellipsis: true,
      ...STRONG,
    });
    doc
      .font(REGULAR)
      .fontSize(7.5)
      .fillColor(TONE_COLOUR[c.change.tone])
      .text(c.change.text, x + 8, y + 42, { width: w - 16, height: 11, ellipsis: true });
  });
  doc.x = MARGIN.left;
  doc.y = y + h + 14;
}

function section(doc: Doc, zh: string, en: string, need = 60): void {
  if (doc.y + need > A4.height - MARGIN.bottom) doc.addPage();
  const y = doc.y;
  strong(doc, '#1f2d4d', 12).text(zh, MARGIN.left, y, { lineBreak: false, ...STRONG });
  const x = MARGIN.left + doc.widthOfString(zh) + 8;
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor('#888888')
    .text(en, x, y + 4.5, { width: A4.width - MARGIN.right - x, height: 12, ellipsis: true });
  doc.x = MARGIN.left;
  doc.y = y + 22;
}

// ---- Summary table -----------------------------------------------------------------------------

/**
 * The summary table as cells: one row per bundle.current row and the 合计 row; the template's metrics,
 * its computed fields and its score in that order, minus the viewer's hidden columns. Empty values
 * are —, never 0. Conditional formats of the template colour the cells as the workbook does.
 */
export function summaryTable(b: ReportBundle): TableSpec {
  const hidden = new Set(b.viewer.hidden);
  const by = b.template.by;
  const keyColumns: { column: TableColumn; cell: (r: (typeof b.current.rows)[number]) => string }[] = [
    {
      column: { header: ROW_KIND_LABEL[by].zh, align: 'left', key: true, width: by === 'agent' ? 62 : 90 },
      cell: (r) => rowLabel(r, by),
    },
  ];
  if (by === 'agent')
    keyColumns.push({
      column: { header: '客服组', align: 'left', key: true, width: 58 },
      cell: (r) => (r.key.group === null || r.key.group === undefined ? EMPTY : String(r.key.group)),
    });

  type ValueColumn = {
    id: string;
    header: string;
    unit: Parameters<typeof formatValue>[0]['unit'];
    direction: 'higher' | 'lower' | 'neutral';
    value: (row: number | 'total') => number | null;
  };
  const rowMetric = (id: string) => (row: number | 'total') => {
    const r = row === 'total' ? b.current.total : b.current.rows[row];
    const v = r?.metrics[id];
    return v === undefined ? null : v;
  };
  const values: ValueColumn[] = [];
  for (const id of b.template.metrics) {
    if (hidden.has(id)) continue;
    const def = metricById(id);
    if (!def) continue;
    values.push({ id, header: def.zh, unit: def.unit, direction: def.direction, value: rowMetric(id) });
  }
  for (const c of b.template.computed) {
    if (hidden.has(c.name)) continue;
    values.push({
      id: c.name,
      header: c.name,
      unit: 'count',
      direction: 'higher',
      value: (row) => (row === 'total' ? b.computed.total[c.name] : b.computed.rows[row]?.[c.name]) ?? null,
    });
  }
  if (b.template.score && !hidden.has('score') && 'score' in b.current.definitions)
    values.push({
      id: 'score',
      header: `绩效得分(${b.template.score.name})`,
      unit: 'score',
      direction: 'higher',
      value: rowMetric('score'),
    });

  const fills = values.map((col) => cellFills(b, col));
  const text = (col: ValueColumn, v: number | null) => (v === null ? EMPTY : formatValue(col, v));
  return {
    columns: [
      ...keyColumns.map((k) => k.column),
      ...values.map((v) => ({ header: v.header, align: 'right' as const })),
    ],
    rows: b.current.rows.map((r, i) => [
      ...keyColumns.map((k): TableCell => ({ text: k.cell(r) })),
      ...values.map((col, c): TableCell => {
        const v = col.value(i);
        const fill = fills[c]!(v);
        return fill ? { text: text(col, v), fill } : { text: text(col, v) };
      }),
    ]),
    total: [
      ...keyColumns.map((_, i): TableCell => ({ text: i === 0 ? '合计' : '' })),
      ...values.map((col): TableCell => ({ text: text(col, col.value('total')) })),
    ],
  };

  /** The background a value gets from the template's conditional formats on its column, if any. */
  function cellFills(bundle: ReportBundle, col: ValueColumn): (v: number | null) => string | undefined {
    const formats = bundle.template.conditionalFormats.filter((f) => f.metric === col.id);
    const column = bundle.current.rows.map((_, i) => col.value(i)).filter((v): v is number => v !== null);
    const lo = Math.min(...column);
    const hi = Math.max(...column);
    return (v) => {
      if (v === null) return undefined;
      let fill: string | undefined;
      for (const f of formats) {
        if (f.kind === 'threshold') {
          const hit =
            f.op === '<'
              ? v < f.value
              : f.op === '<='
                ? v <= f.value
                : f.op === '>'
                  ? v > f.value
                  : v >= f.value;
          if (hit) fill = `#${f.fill.slice(0, 6)}`;
        } else if (!fill && hi > lo && col.direction !== 'neutral') {
          const t = (v - lo) / (hi - lo);
          fill = colourScale(col.direction === 'higher' ? t : 1 - t);
        }
      }
      return fill;
    };
  }
}

/** Excel's red–yellow–green scale, lightened so black text stays readable: 0 worst, 1 best. */
export function colourScale(good: number): string {
  const stops = [
    [248, 105, 107],
    [255, 235, 132],
    [99, 190, 123],
  ] as const;
  const t = Math.min(1, Math.max(0, good)) * 2;
  const [a, b] = t <= 1 ? [stops[0], stops[1]] : [stops[1], stops[2]];
  const f = t <= 1 ? t : t - 1;
  const mix = (i: 0 | 1 | 2) => Math.round((a[i] + (b[i] - a[i]) * f) * 0.55 + 255 * 0.45);
  return `#${[mix(0), mix(1), mix(2)].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

// ---- Charts ------------------------------------------------------------------------------------

function charts(doc: Doc, b: ReportBundle): void {
  const barRows = Math.min(b.current.rows.length, BAR_ROWS + 1);
  const list = [
    { option: frtTrendOption(b), height: 200 },
    { option: rateBarOption(b, { maxRows: BAR_ROWS }), height: Math.max(180, 80 + barRows * 12.5) },
    { option: channelShareOption(b), height: 210 },
  ];
  section(doc, '图表', 'Charts', 40 + list[0]!.height);
  for (const c of list) {
    if (doc.y + c.height > A4.height - MARGIN.bottom) doc.addPage();
    const y = doc.y;
    const svg = renderSvg(c.option, { width: WIDTH * CHART_SCALE, height: c.height * CHART_SCALE });
    // The @types declare the class where the function takes the document instance.
    SVGtoPDF(doc as unknown as typeof PDFDocument, svg, MARGIN.left, y, {
      width: WIDTH,
      height: c.height,
      // The chart's whole viewBox fitted into the box; sizes in points, not 0.75 pt per px.
      preserveAspectRatio: 'xMidYMid meet',
      assumePt: true,
      fontCallback: (_family, isBold, _italic, options) => {
        options.fauxBold = isBold;
        return REGULAR;
      },
    });
    doc.x = MARGIN.left;
    doc.y = y + c.height + 12;
  }
}

// ---- Anomalies ---------------------------------------------------------------------------------

function anomalies(doc: Doc, b: ReportBundle): void {
  const hidden = new Set(b.viewer.hidden);
  const list = b.anomalies.filter((a) => !hidden.has(a.metric));
  section(doc, '异常提醒', 'Anomalies');
  if (!list.length) {
    doc
      .font(REGULAR)
      .fontSize(9)
      .fillColor('#555555')
      .text('本期未发现需要关注的异常。No anomalies this period.');
    doc.y += 8;
    return;
  }
  for (const a of list) {
    const def = metricById(a.metric);
    const v = (x: number | null) => (x === null ? EMPTY : def ? formatValue(def, x) : String(x));
    if (doc.y + 44 > A4.height - MARGIN.bottom) doc.addPage();
    const head = `${a.name} · ${def?.zh ?? a.metric}:${v(a.value)}(基线 ${v(a.baseline)}${a.z !== undefined ? `,z = ${a.z.toFixed(1)}` : ''})`;
    strong(doc, '#c62828', 9).text(`● ${head}`, MARGIN.left, doc.y, { width: WIDTH, ...STRONG });
    doc
      .font(REGULAR)
      .fontSize(8.5)
      .fillColor('#222222')
      .text(a.reason.zh, MARGIN.left + 10, doc.y, { width: WIDTH - 10 });
    if (a.context.zh)
      doc
        .fontSize(7.5)
        .fillColor('#777777')
        .text(a.context.zh, MARGIN.left + 10, doc.y, { width: WIDTH - 10 });
    doc.y += 5;
  }
}

// ---- 口径 appendix ------------------------------------------------------------------------------

/** Every metric whose number is printed in this report: table columns, headline cards, charts. */
export function metricsShown(b: ReportBundle): string[] {
  const hidden = new Set(b.viewer.hidden);
  const ids = [
    ...b.template.metrics,
    ...headlines(b)
      .filter((h) => h.value !== EMPTY || h.change.tone !== 'none')
      .map((h) => h.id),
    ...CHART_METRICS.byDay.filter((id) => id in b.byDay.definitions),
    ...CHART_METRICS.byChannel.filter((id) => id in b.byChannel.definitions).slice(0, 1),
    barMetric(b.current, b.viewer.hidden) ?? '',
  ];
  return [...new Set(ids)].filter((id) => !!id && !hidden.has(id) && !!metricById(id));
}

function definitions(doc: Doc, b: ReportBundle): void {
  section(doc, '附录 · 口径说明', 'Appendix: definitions of the numbers in this report');
  const s = b.settings;
  const params = [
    `时区 ${s.timezone}`,
    b.current.businessHours ? '时长按工作时间计' : '时长按自然时间计',
    `首响标准 ${s.thresholds.firstResponse} 秒`,
    `响应标准 ${s.thresholds.response} 秒`,
    `解决判定 ${s.resolution.rule}`,
    `会话超时 ${s.session.idleTimeoutMinutes} 分钟`,
    s.filters.excludeGreetingOnly ? '剔除无效会话(仅问候)' : '包含无效会话',
  ];
  doc
    .font(REGULAR)
    .fontSize(8.5)
    .fillColor('#333333')
    .text(`参数:${params.join(';')}`, MARGIN.left, doc.y, {
      width: WIDTH,
    });
  doc.y += 6;
  const item = (name: string, zh: string, en?: string) => {
    if (doc.y + 26 > A4.height - MARGIN.bottom) doc.addPage();
    strong(doc, '#1f2d4d', 8.5).text(name, MARGIN.left, doc.y, { width: WIDTH, ...STRONG });
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor('#333333')
      .text(zh, MARGIN.left + 10, doc.y, { width: WIDTH - 10 });
    if (en)
      doc
        .fontSize(7)
        .fillColor('#888888')
        .text(en, MARGIN.left + 10, doc.y, { width: WIDTH - 10 });
    doc.y += 4;
  };
  for (const id of metricsShown(b)) {
    const def = metricById(id)!;
    item(`${def.zh}(${id})`, def.definition.zh, def.definition.en);
  }
  const hidden = new Set(b.viewer.hidden);
  for (const c of b.template.computed)
    if (!hidden.has(c.name)) item(`${c.name}(计算字段)`, `${c.name} = ${c.formula}`);
  if (b.template.score && !hidden.has('score')) {
    const parts = b.template.score.components.map((c) => {
      const def = resolveMetric(c.metric);
      return `${c.label ?? def?.zh ?? c.metric} ${c.weight}%`;
    });
    item(
      `绩效得分(${b.template.score.name})`,
      `各项指标归一到 0–100 后加权平均:${parts.join('、')};无数据的指标不计入,其余权重按比例放大。`,
    );
  }
}

// ---- Footers -----------------------------------------------------------------------------------

/** 'YYYY-MM-DD HH:MM' in the reporting timezone. */
export function localTime(ts: number, tz: string): string {
  return new Date(ts + tzOffset(ts, tz)).toISOString().slice(0, 16).replace('T', ' ');
}

function footers(doc: Doc, b: ReportBundle): void {
  const range = doc.bufferedPageRange();
  const generated = `生成于 ${localTime(b.generatedAt, b.settings.timezone)}(${b.settings.timezone})`;
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing below the bottom margin would otherwise make pdfkit start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = A4.height - 32;
    doc
      .moveTo(MARGIN.left, y - 6)
      .lineTo(A4.width - MARGIN.right, y - 6)
      .lineWidth(0.4)
      .strokeColor('#cccccc')
      .stroke();
    doc.font(REGULAR).fontSize(7.5).fillColor('#777777');
    doc.text(generated, MARGIN.left, y, { width: WIDTH / 3, lineBreak: false });
    doc.text(`第 ${i - range.start + 1} / ${range.count} 页`, MARGIN.left + WIDTH / 3, y, {
      width: WIDTH / 3,
      align: 'center',
      lineBreak: false,
    });
    doc.text(`CS Pulse · ${b.template.name}`, MARGIN.left + (2 * WIDTH) / 3, y, {
      width: WIDTH / 3,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = bottom;
  }
  doc.flushPages();
}
